"""The registry's REST API, mounted on the gateway with `rugzak serve --registry ...`.

    GET    /registry                                status: store kind, supergraph version served
    GET    /registry/subgraphs                      every subgraph (removed ones too)
    GET    /registry/subgraphs/{name}               one, with its current SDL and its versions
    POST   /registry/subgraphs/{name}               add or update: {"url", "owner"?, "force"?}
    DELETE /registry/subgraphs/{name}[?force=true]  remove
    GET    /registry/subgraphs/{name}/history       every version: who, when, what
    GET    /registry/subgraphs/{name}/versions/{n}  one version, with its SDL
    POST   /registry/subgraphs/{name}/rollback      {"version": n, "force"?}
    PUT    /registry/subgraphs/{name}/claims        {"claims": ["rrn", ...] or null}: admin only
    POST   /registry/check/{name}                   what POST .../subgraphs/{name} would do
    GET    /registry/url-patterns                   the URLs organisations may register
    POST   /registry/url-patterns/{org}             {"allow": [...], "forget": [...], "clear"?}

Answers are JSON. A refusal is `{"code", "message", "errors"?, "breakingChanges"?,
"dangerousChanges"?}` with HTTP 400 (bad request, unreadable SDL), 401 (no or bad token), 403
(scope or organisation, a URL the registry does not fetch), 404, 409 (does not compose,
ownership, breaking changes), 413 (SDL too large), 422 (composition over its CPU or memory
limit), 429 (`RATE_LIMITED`, with Retry-After: gateway/rate_limit.py's `registry` and, for the
calls that compose, `registry-compose`), 503 (registry not ready, or its database unreachable).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.errors import AuthenticationError
from auth.principal import Principal
from gateway.errors import RequestError
from gateway.http.admin import on_admin_listener
from gateway.rate_limit import RATE_LIMITED, Refusal
from gateway.registry.admin_settings import AdminSettings
from gateway.registry.changes import SubgraphChanges
from gateway.registry.errors import RegistryRefusal
from gateway.registry.ownership import check_may_read
from gateway.registry.reading import RegistryReader
from gateway.registry.service import Registry

log = logging.getLogger("rugzak.registry")

Authenticate = Callable[[Request], Awaitable[Principal]]
# the caller's rate limits (the request, who it is, whether the call composes a supergraph)
Admit = Callable[[Request, Principal, bool], Awaitable[Refusal | None]]
MAX_BODY = 64 * 1024


_COMPOSES = "rugzak.registry.composes"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def registry_routes(
    registry: Registry, authenticate: Authenticate, admit: Admit | None = None
) -> list[Route]:
    """The REST API over `registry`, authenticating callers as the gateway does, within their
    rate limits (`admit`: gateway/rate_limit.py's, by the request, the caller and whether the
    call composes)."""
    changes = SubgraphChanges(registry)
    settings = AdminSettings(registry)
    reader = RegistryReader(registry)

    async def principal_of(request: Request) -> Principal:
        """The caller, within its rate limits (checked before any work is done for it)."""
        try:
            principal = await authenticate(request)
        except AuthenticationError as exc:
            raise RegistryRefusal(exc.http_status, exc.code, exc.message) from exc
        except RequestError as exc:
            raise RegistryRefusal(403, exc.code, str(exc)) from exc
        if admit is not None:
            refusal = await admit(request, principal, bool(request.scope.get(_COMPOSES)))
            if refusal is not None:
                raise RegistryRefusal(
                    429, RATE_LIMITED, refusal.message, retry_after=refusal.retry_after_header
                )
        return principal

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise RegistryRefusal(413, "PAYLOAD_TOO_LARGE", "the request body is too large")
        if not raw.strip():
            return {}
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RegistryRefusal(400, "BAD_REQUEST", f"the body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise RegistryRefusal(400, "BAD_REQUEST", "the body must be a JSON object")
        return payload

    def flag(value: Any, what: str = "force") -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.lower() in ("true", "1", "yes")
        raise RegistryRefusal(400, "BAD_REQUEST", f"{what}: true or false")

    def endpoint(
        handler: Callable[[Request], Awaitable[dict[str, Any]]], composes: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """`composes`: the call composes a supergraph (its own, lower, rate limit)."""

        async def run(request: Request) -> Response:
            request.scope[_COMPOSES] = composes
            try:
                return _json(200, await handler(request))
            except RegistryRefusal as exc:
                retry = {"retry-after": exc.retry_after} if exc.retry_after else None
                return _json(exc.status, exc.to_json(), retry)
            except Exception as exc:  # the database away, or a bug: JSON all the same
                if not registry.store.unavailable(exc):  # an outage is logged by the store
                    log.exception("registry: %s %s failed", request.method, request.url.path)
                message = "the registry could not do this now (see the gateway's log); try again"
                return _json(503, {"code": "REGISTRY_UNAVAILABLE", "message": message})

        return run

    async def status(request: Request) -> dict[str, Any]:
        # open on the admin listener only; elsewhere a token that may read the registry
        if not on_admin_listener(request):
            check_may_read(await principal_of(request))
        return await reader.status()

    async def list_subgraphs(request: Request) -> dict[str, Any]:
        return await reader.list(await principal_of(request))

    async def show(request: Request) -> dict[str, Any]:
        return await reader.show(await principal_of(request), request.path_params["name"])

    async def history(request: Request) -> dict[str, Any]:
        return await reader.history(await principal_of(request), request.path_params["name"])

    async def version(request: Request) -> dict[str, Any]:
        name, n = request.path_params["name"], request.path_params["n"]
        return await reader.version(await principal_of(request), name, n)

    async def register(request: Request, dry_run: bool) -> dict[str, Any]:
        principal = await principal_of(request)
        body = await body_of(request)
        return await changes.register(
            principal,
            request.path_params["name"],
            body.get("url"),
            body.get("owner"),
            force=flag(body.get("force")),
            dry_run=dry_run,
        )

    async def add(request: Request) -> dict[str, Any]:
        return await register(request, dry_run=False)

    async def check(request: Request) -> dict[str, Any]:
        return await register(request, dry_run=True)

    async def remove(request: Request) -> dict[str, Any]:
        principal = await principal_of(request)
        body = await body_of(request)
        force = flag(body.get("force", request.query_params.get("force")))
        return await changes.remove(principal, request.path_params["name"], force=force)

    async def rollback(request: Request) -> dict[str, Any]:
        principal = await principal_of(request)
        body = await body_of(request)
        return await changes.rollback(
            principal,
            request.path_params["name"],
            body.get("version"),
            force=flag(body.get("force")),
        )

    async def grant(request: Request) -> dict[str, Any]:
        principal = await principal_of(request)
        body = await body_of(request)
        if "claims" not in body:
            raise RegistryRefusal(400, "BAD_REQUEST", 'send {"claims": [...]} or null')
        return await settings.grant(principal, request.path_params["name"], body["claims"])

    async def url_patterns(request: Request) -> dict[str, Any]:
        return await settings.url_patterns(await principal_of(request))

    async def change_url_patterns(request: Request) -> dict[str, Any]:
        principal = await principal_of(request)
        body = await body_of(request)
        return await settings.change_url_patterns(
            principal,
            request.path_params["org"],
            body.get("allow"),
            body.get("forget"),
            flag(body.get("clear"), "clear"),
        )

    return [
        Route("/registry", endpoint(status), methods=["GET"]),
        Route("/registry/url-patterns", endpoint(url_patterns), methods=["GET"]),
        Route("/registry/url-patterns/{org}", endpoint(change_url_patterns), methods=["POST"]),
        Route("/registry/subgraphs/{name}/claims", endpoint(grant), methods=["PUT"]),
        Route("/registry/subgraphs", endpoint(list_subgraphs), methods=["GET"]),
        Route("/registry/subgraphs/{name}", endpoint(show), methods=["GET"]),
        Route("/registry/subgraphs/{name}", endpoint(add, composes=True), methods=["POST"]),
        Route("/registry/subgraphs/{name}", endpoint(remove, composes=True), methods=["DELETE"]),
        Route("/registry/subgraphs/{name}/history", endpoint(history), methods=["GET"]),
        Route("/registry/subgraphs/{name}/versions/{n:int}", endpoint(version), methods=["GET"]),
        Route(
            "/registry/subgraphs/{name}/rollback",
            endpoint(rollback, composes=True),
            methods=["POST"],
        ),
        Route("/registry/check/{name}", endpoint(check, composes=True), methods=["POST"]),
    ]
