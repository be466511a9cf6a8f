"""A test-only stand-in for the gateway's signing, in front of the reference subgraphs, for a
gateway that cannot sign (the reference gateway of the differential tests).

`POST /<name>/graphql` is forwarded to that subgraph's URL with the body unchanged, the caller's
`authorization` and `x-rugzak-purpose`, and an `x-rugzak-signature` made with
RUGZAK_SUBGRAPH_SECRET. Upstreams come from RUGZAK_SIGNING_PROXY_UPSTREAMS, a JSON object
`{name: url}`. Run it with `tests.servers.start_uvicorn("tests.e2e.signing_proxy:app", ...)`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.gateway_signature import SIGNATURE_HEADER, GatewaySigner, secrets_from_env

UPSTREAMS_ENV = "RUGZAK_SIGNING_PROXY_UPSTREAMS"
FORWARDED = ("content-type", "accept", "authorization", "x-rugzak-purpose")

state: dict[str, Any] = {}


async def forward(request: Request) -> Response:
    url = state["upstreams"].get(request.path_params["name"])
    if url is None:
        return Response(status_code=404)
    body = await request.body()
    headers = {h: request.headers[h] for h in FORWARDED if h in request.headers}
    target = httpx.URL(url).raw_path.decode("ascii")
    headers[SIGNATURE_HEADER] = state["signer"].sign("POST", target, body, headers)
    answer = await state["client"].post(url, content=body, headers=headers)
    kept = {h: answer.headers[h] for h in ("content-type", "cache-control") if h in answer.headers}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    state["upstreams"] = orjson.loads(os.environ[UPSTREAMS_ENV])
    state["signer"] = GatewaySigner(secrets_from_env()[0])
    async with httpx.AsyncClient(timeout=30.0) as client:
        state["client"] = client
        yield


app = Starlette(routes=[Route("/{name}/graphql", forward, methods=["POST"])], lifespan=lifespan)
