"""A GraphQL request's way through the gateway, one module per step, in this order:

    parameters      GET query string or POST body -> Parameters
    authenticate    the token -> Principal
    admit           rate limits, allow-list, persisted queries, anonymous callers' turns
    parse_validate  document (cached, within operation limits), operation, variables, cost
    normalise       fragments expanded, @skip/@include decided (cached)
    authorise       the caller's view: unreadable fields cut off, or the operation refused
    plan            subgraph fetches (cached)
    execute         the fetches, introspection, ownership checks
    shape           the answer's data along the operation, and the access log
    respond         body, extensions, Cache-Control, then the HTTP response

The first three run per HTTP request (gateway/http/app.py calls them); the rest, for one
supergraph, in handler.py. What each step produces goes into one RequestContext (context.py);
a step that ends the request returns a Failure (failure.py), whose HTTP status is decided in
one place (status.py)."""
