"""A slow subgraph for tests: `POST /graphql` waits RUGZAK_SLOW_SECONDS, then forwards the request
unchanged (body and headers, so the gateway's signature still verifies) to RUGZAK_SLOW_UPSTREAM
and answers with what it got. Each request appends a line to RUGZAK_SLOW_LOG: `start`, then
`done`, or `abandoned` when the caller closed the connection while it waited.

    tests.servers.start_uvicorn("tests.e2e.slow_proxy:app", "slow subgraph", env)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

state: dict[str, Any] = {}
SKIPPED = {"host", "content-length", "connection"}


def _note(event: str) -> None:
    with Path(os.environ["RUGZAK_SLOW_LOG"]).open("a") as log:
        log.write(event + "\n")


async def forward(request: Request) -> Response:
    body = await request.body()
    _note("start")
    deadline = time.monotonic() + float(os.environ["RUGZAK_SLOW_SECONDS"])
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            _note("abandoned")
            return Response(status_code=499)
        await asyncio.sleep(0.02)
    headers = {k: v for k, v in request.headers.items() if k not in SKIPPED}
    answer = await state["client"].post(state["upstream"], content=body, headers=headers)
    _note("done")
    kept = {h: answer.headers[h] for h in ("content-type", "cache-control") if h in answer.headers}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


async def health(request: Request) -> Response:
    return Response("ok")


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    state["upstream"] = os.environ["RUGZAK_SLOW_UPSTREAM"]
    async with httpx.AsyncClient(timeout=30.0) as client:
        state["client"] = client
        yield


app = Starlette(
    routes=[
        Route("/graphql", forward, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ],
    lifespan=lifespan,
)
