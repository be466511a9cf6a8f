"""A test-only stand-in for the gateway's subgraph tokens, in front of the reference subgraphs,
for a gateway that cannot mint them (the reference gateway of the differential tests).

`POST /<name>/graphql` is forwarded to that subgraph's URL with the body unchanged and, instead of
the caller's token, the token Rugzak would mint for that subgraph: the caller's token is verified
as Rugzak verifies it (the RUGZAK_JWKS_URL issuer), and the subgraph token is signed with the
keys in RUGZAK_GATEWAY_KEY_DIR. Upstreams come from RUGZAK_TOKEN_PROXY_UPSTREAMS, a JSON object
`{name: url}`. Run it with `tests.servers.start_uvicorn("tests.e2e.token_proxy:app", ...)`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.errors import AuthenticationError
from auth.gateway_keys import GatewayKeys
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter
from auth.verifier import verifier_from_env

UPSTREAMS_ENV = "RUGZAK_TOKEN_PROXY_UPSTREAMS"
FORWARDED = ("content-type", "accept")

state: dict[str, Any] = {}


async def forward(request: Request) -> Response:
    name = request.path_params["name"]
    url = state["upstreams"].get(name)
    if url is None:
        return Response(status_code=404)
    body = await request.body()
    headers = {h: request.headers[h] for h in FORWARDED if h in request.headers}
    try:
        principal = await state["verifier"].authenticate(request.headers.get("authorization"))
    except AuthenticationError as error:
        return Response(error.code, status_code=401)
    token = state["minter"].token(principal, name, ALL_CLAIMS)
    headers["authorization"] = f"Bearer {token}"
    answer = await state["client"].post(url, content=body, headers=headers)
    kept = {h: answer.headers[h] for h in ("content-type", "cache-control") if h in answer.headers}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    state["upstreams"] = orjson.loads(os.environ[UPSTREAMS_ENV])
    state["verifier"] = verifier_from_env()
    keys = GatewayKeys.load_or_create(Path(os.environ["RUGZAK_GATEWAY_KEY_DIR"]))
    state["minter"] = SubgraphTokenMinter(keys)
    async with httpx.AsyncClient(timeout=30.0) as client:
        state["client"] = client
        yield


app = Starlette(routes=[Route("/{name}/graphql", forward, methods=["POST"])], lifespan=lifespan)
