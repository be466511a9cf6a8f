"""The HTTP edge: the Starlette app and its pages, serving on uvicorn, the connection limits,
media types, headers and HTTP caching of the gateway's answers."""
