"""uvicorn's HTTP/1.1 protocol (httptools), with the limits it lacks.

- Header timeout: a request's head (request line and headers) must arrive within
  `header_timeout` seconds of its first byte, and a new connection must send its first request
  within that time too. uvicorn has no such timeout: a client sending one header byte a second
  (slowloris) holds a connection forever. Such a connection is answered 408 and closed.
- Body timeout: once the head is in, the whole body must arrive within `body_timeout` seconds;
  else the connection is closed (the handler sees a client that went away).
- A cap on open connections: a connection beyond `max_connections` is answered 503 and closed
  at once, before it can hold anything.
- At most `max_requests_per_connection` requests on one keep-alive connection: the last answer
  says `connection: close`. (Idle keep-alive connections close after uvicorn's
  `timeout_keep_alive`.)
- A connection lost before its answer is complete cancels the request's work
  (gateway/http/disconnect.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.http.disconnect import cancel_abandoned


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    max_requests_per_connection: int = 1000
    # seconds a SIGTERM waits for requests in flight before they are cancelled
    shutdown_timeout: float = 20.0


def _response(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


_TIMEOUT = _response(b"408 Request Timeout")
_BUSY = _response(b"503 Service Unavailable")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._served = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            # nobody is left to answer (uvicorn types the scope as a TypedDict)
            cancel_abandoned(cast(Scope, self.cycle.scope))
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_timers()
        super().on_headers_complete()
        self._served += 1
        if self._served >= self.limits.max_requests_per_connection and self.cycle is not None:
            self.cycle.keep_alive = False
        if self._expects_body():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_late)

    def on_message_complete(self) -> None:
        self._cancel_timers()
        super().on_message_complete()

    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (
                name == b"content-length" and value.strip() != b"0"
            ):
                return True
        return False

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def _cancel_timers(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        # answer only if no response of an earlier request is being written on this connection
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TIMEOUT)
        self.transport.close()

    def _body_late(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_class(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol with these limits, for uvicorn.Config(http=...)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
