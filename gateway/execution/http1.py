"""HTTP/1.1 keep-alive connections to subgraphs on asyncio, responses parsed by httptools (the
parser uvicorn serves with).

Why not httpx (over its own pool or aiohttp's) or aiohttp alone: per subgraph request they spend
most of the gateway's client-side CPU in what a gateway never uses (cookies, redirects, auth
flows, URL and header models built on every call). bench/transport_cost.py measures them side by
side: this module's `exchange` takes about a quarter of the CPU of httpx over aiohttp, and two
thirds of aiohttp's own client. It does only what subgraph calls need: plain http:// origins
(https goes through httpx), a bounded pool of keep-alive connections per origin, a deadline per
request, and httpx's exceptions. `Http1Transport` is also an httpx transport, so it can stand
behind an `httpx.AsyncClient` where the models are wanted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httptools
import httpx

from gateway.registry.connect_guard import ConnectGuard

_IDLE_SECONDS = 4.0  # under uvicorn's 5 s keep-alive: a connection the server dropped is not reused
_HOP_BY_HOP = (b"host", b"content-length", b"transfer-encoding", b"connection")


@dataclass(slots=True)
class RawResponse:
    status: int
    reason: str
    headers: list[tuple[bytes, bytes]]  # as received; names in the server's case
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        """The first value of header `name` (lower case)."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None  # asyncio's or uvloop's (which is no asyncio.Transport)
        self.closed = False
        self.idle_since = 0.0
        self.received_anything = False
        self._parser = httptools.HttpResponseParser(self)
        self._done: asyncio.Future[RawResponse] | None = None
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._until_close = False
        self._reusable = False

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received_anything = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is not None and not self._done.done():
            if self._until_close:  # a response without a length ends with its connection
                self.on_message_complete()
            else:
                self._fail(httpx.RemoteProtocolError("the subgraph closed the connection"))

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        names = {name.lower() for name, _ in self._headers}
        self._until_close = b"content-length" not in names and b"transfer-encoding" not in names

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        # (asked here: once the parser moves on to the next message it no longer knows)
        self._reusable = not self._until_close and self._parser.should_keep_alive()
        if self._done is not None and not self._done.done():
            status = self._parser.get_status_code()
            reason = self._reason.decode("latin-1")
            self._done.set_result(RawResponse(status, reason, self._headers, b"".join(self._body)))

    # -- one exchange ---------------------------------------------------------------------------

    def send(self, data: bytes) -> asyncio.Future[RawResponse]:
        self._done = asyncio.get_running_loop().create_future()
        self._reason = b""
        self._headers = []
        self._body = []
        self._until_close = False
        self._reusable = False
        self.received_anything = False
        self.transport.write(data)
        return self._done

    def keep_alive(self) -> bool:
        return not self.closed and self._reusable

    def _fail(self, exc: Exception) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Origin:
    """The connections to one host and port: idle ones to reuse, and a bound on all of them."""

    def __init__(self, limit: int) -> None:
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(limit)


class Http1Transport(httpx.AsyncBaseTransport):
    def __init__(
        self, max_connections_per_origin: int = 200, guard: ConnectGuard | None = None
    ) -> None:
        """`guard`: asked for the addresses of every new connection (None: the host's own)."""
        self._limit = max_connections_per_origin
        self._guard = guard
        self._origins: dict[tuple[str, int], _Origin] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} URLs are not served by Http1Transport")
        host, port = url.host, url.port or 80
        request_head = head(request.method, url.raw_path, url.netloc, request.headers.raw)
        try:
            raw = await self.exchange(host, port, request_head, request.content, _deadline(request))
        except httpx.TransportError as exc:
            exc.request = request
            raise
        return httpx.Response(raw.status, headers=raw.headers, content=raw.body, request=request)

    async def exchange(
        self,
        host: str,
        port: int,
        request_head: bytes,
        body: bytes,
        timeout: float | None,
        retry_if_dropped: bool = True,
    ) -> RawResponse:
        """One request, its head already serialized by `head()`, without httpx's models.

        `timeout` bounds all of it: waiting for a free connection, connecting, the exchange.
        `retry_if_dropped`: a reused connection the subgraph closed before answering a byte is
        retried on another one (false for requests that must never run twice, i.e. mutations:
        the subgraph may have run it and died before answering).
        """
        if self._closed:
            raise RuntimeError("the transport is closed")
        origin = self._origins.get((host, port))
        if origin is None:
            origin = self._origins[(host, port)] = _Origin(self._limit)
        length = b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n"
        data = request_head + length + body
        try:
            async with asyncio.timeout(timeout):
                async with origin.slots:
                    return await self._exchange(origin, host, port, data, retry_if_dropped)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("no response in time") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or exc.__class__.__name__) from exc

    async def _exchange(
        self, origin: _Origin, host: str, port: int, data: bytes, retry_if_dropped: bool
    ) -> RawResponse:
        now = time.monotonic()
        while origin.idle:
            conn = origin.idle.pop()  # the most recently used: the least likely to be dropped
            if conn.closed or now - conn.idle_since > _IDLE_SECONDS:
                conn.close()
                continue
            try:
                response = await conn.send(data)
            except httpx.RemoteProtocolError:
                conn.close()
                if conn.received_anything or not retry_if_dropped:
                    raise
                continue  # closed while idle, before a byte of an answer: use another
            except BaseException:
                conn.close()  # cancelled or timed out mid-exchange: its state is unknown
                raise
            self._release(origin, conn)
            return response
        conn = await self._connect(host, port)
        try:
            response = await conn.send(data)
        except BaseException:
            conn.close()
            raise
        self._release(origin, conn)
        return response

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._guard is None:
            transport, conn = await loop.create_connection(_Connection, host, port)
            conn.transport = transport  # uvloop calls connection_made only after returning
            return conn
        failure: OSError = OSError(f"{host} has no address")
        for address in await self._guard.addresses(host, port):
            try:
                transport, conn = await loop.create_connection(_Connection, address, port)
            except OSError as exc:
                failure = exc
                continue
            conn.transport = transport
            try:
                self._guard.check_peer(transport.get_extra_info("socket"))
            except BaseException:
                conn.close()
                raise
            return conn
        raise failure

    def _release(self, origin: _Origin, conn: _Connection) -> None:
        if conn.keep_alive() and not self._closed:
            conn.idle_since = time.monotonic()
            origin.idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        self._closed = True
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()
        self._origins.clear()


def head(method: str, target: bytes, authority: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers, up to the content-length that `exchange` adds.
    `authority`: the URL's host[:port] as the Host header carries it (`[::1]:4001` for IPv6).

    Raises ValueError for a header that would break the request apart (CR or LF in it)."""
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1", b"host: " + authority]
    for name, value in headers:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value or b":" in name:
            raise ValueError(f"invalid HTTP header {name!r}")
        if name.lower() not in _HOP_BY_HOP:
            lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n"


def _deadline(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    values = [v for v in (timeout.get("connect"), timeout.get("read")) if v is not None]
    return max(values) if values else None
