"""The reference subgraphs, unchanged except that their answers say `cache-control: no-store`,
so that the gateway's entity cache never answers in their place: under the fault suite's load,
every request reaches them (a cached profile would hide a subgraph that is down).

    python -m gateway.http.serving tests.resilience.uncached:education --fd N
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subgraphs.allowances.app import app as _allowances
from subgraphs.education.app import app as _education
from subgraphs.ticketing.app import app as _ticketing


def no_store(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != b"cache-control"
                ]
                message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        await app(scope, receive, sending)

    return wrapped


education = no_store(_education)
allowances = no_store(_allowances)
ticketing = no_store(_ticketing)
