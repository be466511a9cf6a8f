"""Several fixture subgraphs (tests/federation/fixture_subgraph.py) in one process, one per SDL
file of a directory: `<dir>/NAME.graphql` (+ `NAME.json`) answers at `/NAME/graphql`. So a test
has a subgraph's versions side by side, each at its own URL, as a deploy with a new URL would.

With RUGZAK_SUBGRAPH_SECRET set, like the reference subgraphs it answers only requests the
gateway signed (401 otherwise), except the registry's unsigned `{ _service { sdl } }`.

    python -m tests.registry.subgraph_server --dir DIR (--fd N | --port P)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from auth.gateway_signature import (
    SIGNATURE_HEADER,
    GatewaySignatureError,
    GatewaySignatureVerifier,
    secrets_from_env,
)
from gateway.serving import serve
from subgraphs.common.service_sdl import is_service_sdl_request
from tests.federation.fixture_subgraph import FixtureSubgraph


def create_app(directory: Path) -> Starlette:
    subgraphs = {}
    for sdl_path in sorted(directory.glob("*.graphql")):
        data_path = sdl_path.with_suffix(".json")
        data = json.loads(data_path.read_text()) if data_path.exists() else {}
        subgraphs[sdl_path.stem] = FixtureSubgraph(sdl_path.read_text(), data)
    secrets = secrets_from_env()
    verifier = GatewaySignatureVerifier(secrets) if secrets else None

    async def graphql(request: Request) -> Response:
        subgraph = subgraphs.get(request.path_params["name"])
        if subgraph is None:
            return JSONResponse({"errors": [{"message": "no such subgraph"}]}, status_code=404)
        body = await request.body()
        if verifier is not None and not is_service_sdl_request(request.method, body):
            try:
                verifier.verify(
                    request.headers.get(SIGNATURE_HEADER),
                    "POST",
                    request.url.path,
                    body,
                    request.headers,
                )
            except GatewaySignatureError as exc:
                error = {"message": exc.message, "extensions": {"code": exc.code}}
                return JSONResponse({"errors": [error]}, status_code=401)
        payload = json.loads(body)
        result = await subgraph.execute(
            payload["query"], payload.get("variables"), payload.get("operationName")
        )
        return JSONResponse(result)

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/", ready), Route("/{name}/graphql", graphql, methods=["POST"])]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int)
    where.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    serve(create_app(args.dir), port=args.port or 0, fd=args.fd)


if __name__ == "__main__":
    main()
