"""The ASGI app of a reference subgraph: Strawberry's GraphQL view inside a small Starlette app.

Routes
    POST/GET `/graphql` (and `/`): GraphQL over HTTP; GraphiQL for a browser's GET.
    GET `/health`: `{"status": "ok", "subgraph": <name>}` once the store is open.

Only the gateway may call it, and it says who is calling: with RUGZAK_GATEWAY_JWKS_URL set, a
GraphQL request must carry the token the gateway minted for this subgraph (`authorization:
Bearer ...`), else HTTP 401 with code `GATEWAY_TOKEN_REQUIRED` or `INVALID_GATEWAY_TOKEN`
(subgraphs/common/gateway_guard.py). The principal comes from that token's claims; a client's
own token is refused. An operation reading only `_service` is answered to anyone; `/health`
stays open.

On startup the app opens its SQLite store (`$RUGZAK_DATA_DIR/<name>.sqlite3`, created and seeded
when missing) and builds the verifier of the gateway's tokens once; without one every request
is anonymous.

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

from auth.invalidation_keys import own_keys_from_env
from resolvers.common.sqlite import Seed, Session, Store, store_path
from subgraphs.common.caching import CacheCollector
from subgraphs.common.context import RequestContext
from subgraphs.common.gateway_guard import gateway_principal, gateway_verifier_from_env
from subgraphs.common.invalidation import invalidator_from_env, metrics_text

STORE_QUERIES_HEADER = "x-store-queries"

log = logging.getLogger("rugzak.subgraphs")


class _GraphQLView(GraphQL[Any, None]):
    """Strawberry's ASGI view, answering with orjson."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


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
        verifier = gateway_verifier_from_env(name)
        # only a subgraph that changes data has something to tell the gateway
        invalidator = invalidator_from_env(name, own_keys_from_env()) if writable else None
        store = Store.open(store_path(name), seed, version=seed_version, writable=writable)
        state["store"], state["verifier"], state["invalidator"] = store, verifier, invalidator
        try:
            yield
        finally:
            if verifier is not None:
                await _close(verifier)
            if invalidator is not None:
                await invalidator.aclose()
            store.close()

    async def graphql(request: Request) -> Response:
        principal = await gateway_principal(request, state["verifier"])
        if isinstance(principal, Response):
            return principal
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
