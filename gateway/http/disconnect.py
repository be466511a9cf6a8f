"""A client that goes away stops its request quietly.

- It leaves while sending its body: the handler's read fails with Starlette's ClientDisconnect,
  which ends the request here instead of in uvicorn's "Exception in ASGI application" log.
- It leaves while its request runs (parsing, planning, waiting on subgraphs): the server's
  protocol (gateway/http/protocol.py) sees the connection close, marks the request's scope and
  cancels the task this middleware registered there; the cancellation ends here, quietly. The
  subgraph client closes the connections it was using (their state is unknown), so nothing of
  the abandoned request leaks into another.

It costs a dict entry and a try block per request: no task of its own. `on_abandoned` counts
those requests (for /metrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

TASK = "rugzak.task"  # the task running the request: the protocol cancels it
CLIENT_GONE = "rugzak.client_gone"  # set by the protocol before it cancels


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp, on_abandoned: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_abandoned = on_abandoned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        scope[TASK] = task
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            self._abandoned()
        except asyncio.CancelledError:
            if not scope.get(CLIENT_GONE) or task is None or task.uncancel() > 0:
                raise  # not ours (a server shutdown): let it go on
            self._abandoned()
        finally:
            scope.pop(TASK, None)

    def _abandoned(self) -> None:
        if self.on_abandoned is not None:
            self.on_abandoned()


def cancel_abandoned(scope: Scope | None) -> None:
    """Called by the server when a request's connection is lost before its answer is complete."""
    if scope is None:
        return
    task = scope.get(TASK)
    if isinstance(task, asyncio.Task) and not task.done():
        scope[CLIENT_GONE] = True
        task.cancel()
