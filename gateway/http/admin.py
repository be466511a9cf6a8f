"""The operator's endpoints: /metrics, /health, /ready and the registry's status (GET /registry).

On the public listener, /metrics needs a token with the `metrics:read` scope and GET /registry
one with a registry scope (`registry:read`); /ready answers anyone with its status, and its
details (each subgraph, the cache, the registry) only with that `metrics:read` token. A second
listener (`rugzak serve --admin-port`), meant to be reachable only from the operator's network,
serves those endpoints without a token and nothing else. The app tells the listeners apart by
the local port of the connection.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

METRICS_READ = "metrics:read"
ADMIN_PATHS = frozenset({"/metrics", "/health", "/ready", "/registry"})
_SCOPE_KEY = "rugzak.admin"
_NOT_HERE = b'{"code":"NOT_FOUND","message":"the admin listener serves only ' + (
    b'/metrics, /health, /ready and GET /registry"}'
)


def on_admin_listener(request: Request) -> bool:
    return bool(request.scope.get(_SCOPE_KEY))


class AdminListener:
    """Marks requests that came in on the admin port, and keeps them to the admin paths."""

    def __init__(self, app: ASGIApp, port: int | None) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.port is not None and scope["type"] == "http":
            server = scope.get("server")
            if server is not None and server[1] == self.port:
                if scope["path"] not in ADMIN_PATHS or scope["method"] not in ("GET", "HEAD"):
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 404,
                            "headers": [(b"content-type", b"application/json")],
                        }
                    )
                    await send({"type": "http.response.body", "body": _NOT_HERE})
                    return
                scope = {**scope, _SCOPE_KEY: True}
        await self.app(scope, receive, send)
