"""The ASGI app of a reference subgraph: Strawberry's GraphQL view inside a small Starlette app.

Routes
    POST/GET `/graphql` (and `/`): GraphQL over HTTP; GraphiQL for a browser's GET.
    GET `/health`: `{"status": "ok", "subgraph": <name>}` once the store is open.

Only the gateway may call it: with RUGZAK_SUBGRAPH_SECRET set, a GraphQL request without a valid
gateway signature is answered with HTTP 401 and code `GATEWAY_SIGNATURE_REQUIRED` or
`INVALID_GATEWAY_SIGNATURE` (subgraphs/common/gateway_guard.py); `/health` stays open.

On startup the app opens its SQLite store (`$RUGZAK_DATA_DIR/<name>.sqlite3`, created and seeded
when missing) and builds the token verifier once with `auth.verifier.verifier_from_env()`; with
no verifier configured every request is anonymous.

Per request it authenticates the `Authorization: Bearer <JWT>` header that the gateway forwards:
no header gives the anonymous principal; a bad token is answered with HTTP 401 and a GraphQL
error body `{"errors": [{"message": ..., "extensions": {"code": "UNAUTHENTICATED", "reason":
<auth's code, e.g. "TOKEN_EXPIRED">}}]}` (503 and the auth code when the JWKS is unreachable). The
principal, a counted store session and fresh dataloaders go into the GraphQL context.

Observing the store: every GraphQL response carries the header

    x-store-queries: N

where N is the number of SQL statements the request sent to the store. Because lookups go
through per-request dataloaders, an `_entities` call with 100 `Citizen` representations answers
with `x-store-queries: 1`.

Caching: every GraphQL response carries `Cache-Control` (from the schema's cache hints) and, in
`extensions.cacheTags`, the entities it was read from (subgraphs/common/caching.py). With
RUGZAK_GATEWAY_URL set, resolvers that change data tell the gateway which tags went stale
(subgraphs/common/invalidation.py); `GET /metrics` counts those calls by outcome.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from auth.errors import AuthenticationError
from auth.gateway_signature import secrets_from_env
from auth.principal import ANONYMOUS, Principal
from auth.verifier import TokenVerifier, verifier_from_env
from resolvers.common.sqlite import Seed, Session, Store, store_path
from subgraphs.common.caching import CacheCollector
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import UNAUTHENTICATED
from subgraphs.common.gateway_guard import refuse_unsigned, signature_verifier_from_env
from subgraphs.common.invalidation import invalidator_from_env, metrics_text

STORE_QUERIES_HEADER = "x-store-queries"

log = logging.getLogger("rugzak.subgraphs")


class _GraphQLView(GraphQL[Any, None]):
    """Strawberry's ASGI view, answering with orjson."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _unauthenticated(error: AuthenticationError) -> Response:
    """401 with a GraphQL error body; `extensions.reason` keeps auth's precise code.

    When the identity provider itself is unreachable (auth answers 503), that code is the
    GraphQL code too: the caller's token is not at fault.
    """
    status = error.http_status
    code = UNAUTHENTICATED if status == 401 else error.code
    body = {
        "errors": [{"message": error.message, "extensions": {"code": code, "reason": error.code}}]
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"www-authenticate": error.www_authenticate},
    )


async def _close(resource: object) -> None:
    closer = getattr(resource, "aclose", None) or getattr(resource, "close", None)
    if callable(closer):
        result = closer()
        if inspect.isawaitable(result):
            await result


def create_app(
    *,
    name: str,
    schema: strawberry.federation.Schema,
    seed: Seed,
    seed_version: int,
    loaders: Callable[[Session], object],
    writable: bool = False,
) -> Starlette:
    """The Starlette app of the subgraph `name` (its store file is `<name>.sqlite3`)."""
    view = _GraphQLView(schema, graphql_ide="graphiql")
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        signatures = signature_verifier_from_env(name)
        # only a subgraph that changes data has something to tell the gateway
        invalidator = invalidator_from_env(name, secrets_from_env()) if writable else None
        store = Store.open(store_path(name), seed, version=seed_version, writable=writable)
        verifier = verifier_from_env()
        if verifier is None:
            log.warning("%s: no token verifier configured; every request is anonymous", name)
        state["store"], state["verifier"], state["signatures"] = store, verifier, signatures
        state["invalidator"] = invalidator
        try:
            yield
        finally:
            if verifier is not None:
                await _close(verifier)
            if invalidator is not None:
                await invalidator.aclose()
            store.close()

    async def authenticate(request: Request) -> Principal:
        verifier: TokenVerifier | None = state["verifier"]
        if verifier is None:
            return ANONYMOUS
        return await verifier.authenticate(request.headers.get("authorization"))

    async def graphql(request: Request) -> Response:
        refusal = await refuse_unsigned(request, state["signatures"])
        if refusal is not None:
            return refusal
        try:
            principal = await authenticate(request)
        except AuthenticationError as error:
            return _unauthenticated(error)
        store: Store = state["store"]
        session = store.session()
        collector = CacheCollector()
        context = RequestContext(
            request=request,
            principal=principal,
            session=session,
            loaders=loaders(session),
            cache=collector,
            invalidator=state["invalidator"],
        )
        response: Response
        try:
            response = await view.run(request, context=context)
        except HTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        response.headers[STORE_QUERIES_HEADER] = str(session.queries)
        response.headers["cache-control"] = collector.header
        return response

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "subgraph": name})

    async def metrics(_request: Request) -> Response:
        text = metrics_text(state.get("invalidator"))
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    methods = ["GET", "POST"]
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=methods),
            Route("/", graphql, methods=methods),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
