"""Several fixture subgraphs (tests/federation/fixture_subgraph.py) in one process, one per SDL
file of a directory: `<dir>/NAME.graphql` (+ `NAME.json`) answers at `/NAME/graphql`. So a test
has a subgraph's versions side by side, each at its own URL, as a deploy with a new URL would.

Like the reference subgraphs, with RUGZAK_GATEWAY_JWKS_URL set it answers only tokens the gateway
minted (its key, issuer and token type, not expired), and an operation reading only `_service` to
anyone: the registry reads the SDL with no credentials. One fixture serves under whatever name a
test registers it, so the audience a token names is taken as the name it was meant for (the
reference subgraphs check their own name; the security tests check the audience recorded here).

It records what it is sent: `GET /NAME/received` lists, per request, its headers and the claims
of the token that came with it (a municipality's subgraph sees all of that; the security tests
check what it is).

    python -m tests.registry.subgraph_server --dir DIR (--fd N | --port P)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from auth.verifier import TokenVerifier
from gateway.http.serving import serve
from subgraphs.common.gateway_guard import gateway_principal, gateway_verifier_from_env
from tests.federation.fixture_subgraph import FixtureSubgraph


def create_app(directory: Path) -> Starlette:
    subgraphs = {}
    for sdl_path in sorted(directory.glob("*.graphql")):
        data_path = sdl_path.with_suffix(".json")
        data = json.loads(data_path.read_text()) if data_path.exists() else {}
        subgraphs[sdl_path.stem] = FixtureSubgraph(sdl_path.read_text(), data)
    verifiers: dict[str, TokenVerifier | None] = {}

    def verifier_for(request: Request) -> TokenVerifier | None:
        audience = _audience(request.headers.get("authorization", "")) or "?"
        if audience not in verifiers:
            verifiers[audience] = gateway_verifier_from_env(audience)
        return verifiers[audience]

    received: dict[str, list[dict[str, Any]]] = {name: [] for name in subgraphs}

    async def graphql(request: Request) -> Response:
        name = request.path_params["name"]
        subgraph = subgraphs.get(name)
        if subgraph is None:
            return JSONResponse({"errors": [{"message": "no such subgraph"}]}, status_code=404)
        body = await request.body()
        received[name].append(_record(request, body))
        principal = await gateway_principal(request, verifier_for(request))
        if isinstance(principal, Response):
            return principal
        payload = json.loads(body)
        result = await subgraph.execute(
            payload["query"], payload.get("variables"), payload.get("operationName")
        )
        return JSONResponse(result)

    async def what_it_received(request: Request) -> Response:
        return JSONResponse(received.get(request.path_params["name"], []))

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/", ready),
            Route("/{name}/graphql", graphql, methods=["POST"]),
            Route("/{name}/received", what_it_received, methods=["GET"]),
        ]
    )


def _audience(authorization: str) -> str | None:
    try:
        aud = jwt.get_unverified_claims(authorization.partition(" ")[2]).get("aud")
    except Exception:  # not a JWT: the verifier says why
        return None
    return aud if isinstance(aud, str) and aud.isprintable() and len(aud) < 100 else None


def _record(request: Request, body: bytes) -> dict[str, Any]:
    headers = dict(request.headers)
    entry: dict[str, Any] = {"headers": headers, "body": body.decode("utf-8", "replace")}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            entry["token"] = token
            entry["claims"] = jwt.get_unverified_claims(token)
            entry["header"] = jwt.get_unverified_header(token)
        except Exception:  # whatever arrived, recorded as it is
            entry["claims"] = None
    return entry


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
