"""`POST /cache/invalidate`: who may drop cached answers, and which.

    {"tags": ["Citizen:85671012385"], "entities": [{"__typename": "Ticket", "id": "7"}]}

Two kinds of caller:

- a token granting the `cache:invalidate` scope (an operator, `rugzak cache invalidate`): any tag;
- a subgraph, signed with its own invalidation key (auth/invalidation_keys.py): it names itself in
  `x-rugzak-subgraph` and signs the request (`x-rugzak-signature`). It may invalidate only tags
  of types it resolves (a type it declares, with a resolvable `@key` when it is an entity): a
  subgraph cannot empty the cache of another's data. A signature that does not verify is 401
  `INVALID_GATEWAY_SIGNATURE` whatever token comes with it; a tag of another's type is 403
  `FORBIDDEN`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.errors import AuthenticationError
from auth.gateway_signature import SIGNATURE_HEADER, SUBGRAPH_HEADER, GatewaySignatureError
from auth.invalidation_keys import InvalidationKeys
from auth.principal import Principal
from gateway.cache.entities import INVALIDATE_SCOPE, EntityCache, invalidation_tags
from gateway.errors import RequestError, graphql_error
from gateway.rate_limit import Refusal
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.app")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _error(status: int, message: str, code: str) -> Response:
    return _json(status, {"errors": [graphql_error(message, code)]})


def resolves_type(supergraph: Supergraph, subgraph: str, type_name: str) -> bool:
    """Does subgraph `subgraph` resolve objects of `type_name`? An entity only with a
    resolvable key there (a `resolvable: false` stub is a reference, not data it holds)."""
    try:
        graph = supergraph.graph_by_name(subgraph).enum_value
    except KeyError:
        return False
    info = supergraph.type_graphs.get(type_name, {}).get(graph)
    if info is None:
        return False
    return not info.keys or any(key.resolvable for key in info.keys)


def foreign_tags(supergraph: Supergraph, subgraph: str, tags: Iterable[str]) -> list[str]:
    """The tags whose type `subgraph` does not resolve."""
    return [t for t in tags if not resolves_type(supergraph, subgraph, t.split(":", 1)[0])]


def _target(request: Request) -> str:
    """The path and query as received, which is what a signer signed (not a decoded form)."""
    raw_path: bytes | None = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.scope["path"]
    query: bytes = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class InvalidationEndpoint:
    def __init__(
        self,
        keys: InvalidationKeys | None,
        authenticate: Callable[[Request], Awaitable[Principal]],
        supergraph: Callable[[], Supergraph],
        entity_cache: Callable[[], EntityCache],
        max_body_bytes: int,
        admit: Callable[[str], Awaitable[Refusal | None]] | None = None,
    ) -> None:
        """`admit`: the caller's rate limit (gateway/rate_limit.py's `invalidate`), by who it
        is once verified (not by what a request claims: that would let anyone spend a
        subgraph's bucket)."""
        self.keys = keys
        self.admit = admit
        self.authenticate = authenticate
        self.supergraph = supergraph
        self.entity_cache = entity_cache
        self.max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                return _error(413, "request body too large", "PAYLOAD_TOO_LARGE")
        subgraph: str | None = None
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature is not None:
            subgraph = request.headers.get(SUBGRAPH_HEADER, "")
            refusal = self._check_signature(request, subgraph, signature, body)
            if refusal is not None:
                return refusal
            who = f"subgraph {subgraph} (signed)"
            caller = f"subgraph\x00{subgraph}"
        else:
            try:
                principal = await self.authenticate(request)
            except (AuthenticationError, RequestError) as exc:
                return _error(401, str(exc), "UNAUTHENTICATED")
            if not principal.has_scope(INVALIDATE_SCOPE):
                message = f"invalidating the cache needs the {INVALIDATE_SCOPE} scope"
                return _error(403, message, "FORBIDDEN")
            who = str(principal.subject)
            caller = f"token\x00{principal.issuer}\x00{principal.subject}"
        if self.admit is not None:
            limited = await self.admit(caller)
            if limited is not None:
                headers = {"retry-after": limited.retry_after_header}
                return _json(429, {"errors": [limited.to_graphql()]}, headers)
        try:
            tags = invalidation_tags(orjson.loads(body))
        except (orjson.JSONDecodeError, ValueError) as exc:
            return _error(400, str(exc), "BAD_REQUEST")
        if subgraph is not None:
            foreign = foreign_tags(self.supergraph(), subgraph, tags)
            if foreign:
                message = (
                    f"{subgraph} may invalidate only tags of types it resolves, not "
                    f"{', '.join(foreign[:5])}"
                )
                return _error(403, message, "FORBIDDEN")
        invalidated = await self.entity_cache().invalidate(tags)
        kinds = ", ".join(sorted({tag.split(":", 1)[0] for tag in tags}))  # no keys: no INSZ
        log.info("cache invalidated by %s: %d tags (%s)", who, len(tags), kinds)
        status = 200 if invalidated == len(tags) else 503  # the cache backend is down
        return _json(status, {"invalidated": invalidated, "tags": tags})

    def _check_signature(
        self, request: Request, subgraph: str, signature: str, body: bytes
    ) -> Response | None:
        code = "INVALID_GATEWAY_SIGNATURE"
        if self.keys is None:
            message = "this gateway takes no signed invalidations (no invalidation secret is set)"
            return _error(401, message, code)
        known = {graph.name for graph in self.supergraph().graphs.values()}
        if subgraph not in known:
            message = f"{SUBGRAPH_HEADER} must name one of this gateway's subgraphs"
            return _error(401, message, code)
        try:
            self.keys.verifier(subgraph).verify(
                signature, request.method, _target(request), body, request.headers
            )
        except GatewaySignatureError as exc:
            return _error(401, exc.message, exc.code)
        return None
