"""Serve a fixture subgraph (see fixture_subgraph.py) over HTTP: an ASGI app on uvicorn.

    python -m tests.federation.fixture_subgraph_server --sdl S.graphql [--data D.json] \\
        (--fd N | --port P) [--name NAME] [--cache-control VALUE] [--cache-tag TAG ...]

Routes:
- `POST /graphql` (also `GET /graphql?query=...`): the subgraph.
- `GET /`: 200 "ok" (readiness probe).
- `GET /__log`: the requests received on /graphql so far, as JSON
  `[{"query", "variables", "operationName", "headers"}]` (header names lower-case), so a test can
  see what a gateway sent: which fetches, which representations, which headers.
- `DELETE /__log`: empties that log.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.http.protocol import ConnectionLimits
from gateway.http.serving import serve
from tests.federation.fixture_subgraph import FixtureSubgraph

# Idle keep-alive connections are kept longer than the gateways in front keep theirs: a
# subgraph closing one after 5 s (the default) races a gateway reusing it, and Apollo Gateway
# (its fetch does not retry) then answered "socket hang up" for a field.
GATEWAYS_OUTLIVED = ConnectionLimits(keep_alive_timeout=120.0)


def create_app(
    subgraph: FixtureSubgraph, cache_control: str | None = None, cache_tags: list[str] | None = None
) -> Starlette:
    log: list[dict[str, Any]] = []

    async def graphql_endpoint(request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            body: dict[str, Any] = {
                "query": params.get("query"),
                "variables": json.loads(params["variables"]) if "variables" in params else None,
                "operationName": params.get("operationName"),
            }
        else:
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"errors": [{"message": "body is not JSON"}]}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse({"errors": [{"message": "no query"}]}, status_code=400)
        log.append(
            {
                "query": body["query"],
                "variables": body.get("variables"),
                "operationName": body.get("operationName"),
                "headers": {k.lower(): v for k, v in request.headers.items()},
            }
        )
        result = await subgraph.execute(
            body["query"], body.get("variables"), body.get("operationName")
        )
        if cache_tags:  # what the answer depends on, for a gateway's cache invalidation
            result = {**result, "extensions": {"cacheTags": cache_tags}}
        headers = {"cache-control": cache_control} if cache_control else None
        return JSONResponse(result, headers=headers)

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def request_log(request: Request) -> Response:
        if request.method == "DELETE":
            log.clear()
            return Response(status_code=204)
        return JSONResponse(log)

    return Starlette(
        routes=[
            Route("/", ready),
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/__log", request_log, methods=["GET", "DELETE"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sdl", type=Path, required=True)
    parser.add_argument("--data", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int, help="an already-listening socket (tests/servers.py)")
    where.add_argument("--port", type=int, help="listen on 127.0.0.1:PORT")
    parser.add_argument("--cache-control", help="a Cache-Control header for every answer")
    parser.add_argument("--cache-tag", action="append", help="extensions.cacheTags of answers")
    args = parser.parse_args(argv)
    subgraph = FixtureSubgraph.from_files(args.sdl, args.data)
    app = create_app(subgraph, args.cache_control, args.cache_tag)
    serve(app, port=args.port or 0, fd=args.fd, limits=GATEWAYS_OUTLIVED)


if __name__ == "__main__":
    main()
