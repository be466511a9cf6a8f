"""A client that goes away stops its request quietly.

- It leaves while sending its body: the handler's read fails with Starlette's ClientDisconnect,
  which ends the request here instead of in uvicorn's "Exception in ASGI application" log.
- It leaves while its request runs (parsing, planning, waiting on subgraphs): once the body is
  read, a watcher waits on the connection, and cancels the handler when the client is gone. The
  subgraph client closes the connections it was using (their state is unknown), so nothing of
  the abandoned request leaks into another.

`on_abandoned` counts those requests (for /metrics)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp, on_abandoned: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_abandoned = on_abandoned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = asyncio.current_task()
        assert handler is not None
        ended: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        watcher: asyncio.Task[None] | None = None
        has_body = _has_body(scope)
        state = {"body_read": not has_body, "gave_empty_body": False, "responded": False}
        gone = False

        async def watch() -> None:
            # after the body, the server answers receive() only when the client is gone or the
            # response is complete (a request without a body first gets its empty body)
            message = await receive()
            while message["type"] == "http.request":
                message = await receive()
            ended.set_result(message)
            if message["type"] == "http.disconnect" and not state["responded"]:
                nonlocal gone
                gone = True
                handler.cancel()

        def start_watching() -> None:
            nonlocal watcher
            if watcher is None:
                watcher = asyncio.ensure_future(watch())

        async def app_receive() -> Message:
            # the watcher owns the connection once the body is read: the app hears from it
            if not has_body and not state["gave_empty_body"]:
                state["gave_empty_body"] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if state["body_read"]:
                start_watching()
                return await asyncio.shield(ended)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                state["body_read"] = True
                start_watching()
            return message

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                state["responded"] = True  # before sending: the watcher wakes when it is sent
            await send(message)

        if not has_body:
            start_watching()
        try:
            await self.app(scope, app_receive, send_and_note)
        except ClientDisconnect:
            self._abandoned()
        except asyncio.CancelledError:
            if not gone or handler.uncancel() > 0:
                raise  # not ours (a server shutdown): let it go on
            self._abandoned()
        finally:
            if watcher is not None and not watcher.done():
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    def _abandoned(self) -> None:
        if self.on_abandoned is not None:
            self.on_abandoned()
