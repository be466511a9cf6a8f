"""The one request a subgraph answers without the gateway's credentials: `{ _service { sdl } }`.

The registry reads a subgraph's SDL before it is registered, and sends no credentials of the
gateway when it does (gateway/registry/fetch.py): the URL is the caller's choice, so whatever
the gateway sent along would be handed to whoever answers it. The SDL is the subgraph's schema,
which the supergraph publishes anyway; no data is read. Only this exact query is let through:
no other field, no variables, no operation name.
"""

from __future__ import annotations

import orjson

SERVICE_SDL_QUERY = "{ _service { sdl } }"


def is_service_sdl_request(method: str, body: bytes) -> bool:
    if method != "POST" or len(body) > 256:
        return False
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(payload, dict) or payload.get("query") != SERVICE_SDL_QUERY:
        return False
    return all(payload.get(k) in (None, {}) for k in payload if k != "query")
