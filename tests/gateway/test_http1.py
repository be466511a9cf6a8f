"""The subgraph HTTP/1.1 client (gateway.execution.http1) against a scripted server on loopback:
keep-alive reuse, every way a response can be framed, connections the server drops, slow and
absent servers, malformed answers, the per-origin bound, and what SubgraphClient makes of each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.cache.entities import CacheControl
from gateway.execution.http1 import Http1Transport, head
from gateway.execution.subgraph_client import SubgraphClient
from gateway.execution.transport import SubgraphFailure, SubgraphRequest, SubgraphResponse

ANSWER = b'{"data":{"ok":true}}'


def fixed(body: bytes = ANSWER, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


@dataclass
class Scripted:
    """A server that answers the n-th request with `answers[n]` (bytes to write, or a callable
    that gets the writer), counting connections and requests."""

    answers: list[bytes | Callable[[asyncio.StreamWriter], object]]
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    open_now: int = 0
    most_open: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head_bytes = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head_bytes.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head_bytes + body)
                index = len(self.requests) - 1
                answer = self.answers[min(index, len(self.answers) - 1)]
                if callable(answer):
                    result = answer(writer)
                    if asyncio.iscoroutine(result):
                        await result
                else:
                    writer.write(answer)
                    await writer.drain()
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    servers: list[asyncio.Server] = []

    async def start(*answers: bytes | Callable[[asyncio.StreamWriter], object]) -> Scripted:
        scripted = Scripted(list(answers))
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
        servers.append(server)
        scripted.port = server.sockets[0].getsockname()[1]
        return scripted

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _head(port: int, headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    return head("POST", b"/graphql", f"127.0.0.1:{port}".encode(), headers or [])


async def test_keep_alive_reuses_one_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fixed())
    transport = Http1Transport()
    try:
        for _ in range(3):
            raw = await transport.exchange("127.0.0.1", server.port, _head(server.port), b"{}", 5)
            assert (raw.status, raw.reason, raw.body) == (200, "OK", ANSWER)
        assert server.connections == 1 and len(server.requests) == 3
        assert server.requests[0].startswith(b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:")
        assert b"content-length: 2\r\n\r\n{}" in server.requests[0]
    finally:
        await transport.aclose()


async def test_chunked_and_close_delimited_responses(serve) -> None:  # type: ignore[no-untyped-def]
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b'5\r\n{"dat\r\n' + b'f\r\na":{"ok":true}}\r\n0\r\n\r\n'
    )

    def until_close(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + ANSWER)
        writer.close()

    server = await serve(chunked, until_close, fixed())
    transport = Http1Transport()
    try:
        port = server.port
        assert (await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)).body == ANSWER
        assert (await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)).body == ANSWER
        # the close-delimited answer ended its connection: the next request opens another
        assert (await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)).body == ANSWER
        assert server.connections == 2
    finally:
        await transport.aclose()


async def test_a_connection_dropped_while_idle_is_retried_for_queries_only(serve) -> None:  # type: ignore[no-untyped-def]
    def drop(writer: asyncio.StreamWriter) -> None:
        writer.close()  # read the request, answered nothing

    server = await serve(fixed(), drop, fixed(), fixed(), drop)
    transport = Http1Transport()
    port = server.port
    try:
        await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)
        # reused connection dropped before any answer: retried on a new one
        raw = await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)
        assert raw.body == ANSWER and server.connections == 2
        await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)
        # a mutation is never sent twice
        with pytest.raises(httpx.RemoteProtocolError):
            await transport.exchange(
                "127.0.0.1", port, _head(port), b"{}", 5, retry_if_dropped=False
            )
    finally:
        await transport.aclose()


async def test_timeouts_refusals_and_malformed_answers(serve) -> None:  # type: ignore[no-untyped-def]
    async def never(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    slow = await serve(never)
    garbage = await serve(b"SMTP ready\r\n\r\n")
    transport = Http1Transport()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await transport.exchange("127.0.0.1", slow.port, _head(slow.port), b"{}", 0.3)
        assert asyncio.get_running_loop().time() - started < 5
        with pytest.raises(httpx.RemoteProtocolError):
            await transport.exchange("127.0.0.1", garbage.port, _head(garbage.port), b"{}", 5)
    finally:
        await transport.aclose()


async def test_connection_refused_is_a_connect_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound, never listening: refused
    transport = Http1Transport()
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.exchange("127.0.0.1", port, _head(port), b"{}", 5)
    finally:
        await transport.aclose()


def test_headers_that_would_split_the_request_are_refused() -> None:
    with pytest.raises(ValueError):
        _head(80, [(b"authorization", b"Bearer x\r\nx-admin: 1")])
    with pytest.raises(ValueError):
        _head(80, [(b"x-a\nb", b"1")])
    # hop-by-hop headers are ours to set
    text = _head(8080, [(b"Host", b"evil"), (b"content-length", b"9"), (b"x-ok", b"1")])
    assert text == b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-ok: 1\r\n"


async def test_connections_per_origin_are_bounded(serve) -> None:  # type: ignore[no-untyped-def]
    async def slowly(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.05)
        writer.write(fixed())

    server = await serve(slowly)
    transport = Http1Transport(max_connections_per_origin=2)
    port = server.port
    try:
        answers = await asyncio.gather(
            *(transport.exchange("127.0.0.1", port, _head(port), b"{}", 5) for _ in range(6))
        )
        assert all(a.body == ANSWER for a in answers)
        assert server.most_open <= 2 and len(server.requests) == 6
    finally:
        await transport.aclose()


async def test_ipv6_subgraphs_get_a_bracketed_host_header() -> None:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        await reader.readexactly(2)
        writer.write(fixed())
        await writer.drain()
        writer.close()

    try:
        server = await asyncio.start_server(handle, "::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    port = server.sockets[0].getsockname()[1]
    client = SubgraphClient()
    try:
        answer = await client.send(_request(f"http://[::1]:{port}/graphql"))
        assert answer == SubgraphResponse({"data": {"ok": True}})
        assert f"host: [::1]:{port}\r\n".encode() in seen[0]
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_it_serves_as_an_httpx_transport(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fixed(extra=b"cache-control: max-age=5\r\n"))
    async with httpx.AsyncClient(transport=Http1Transport()) as client:
        response = await client.post(f"http://127.0.0.1:{server.port}/graphql", json={"a": 1})
        assert response.json() == {"data": {"ok": True}}
        assert response.headers["cache-control"] == "max-age=5"
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.post("https://127.0.0.1:1/graphql", json={})


async def test_subgraph_client_turns_each_failure_into_its_code(serve) -> None:  # type: ignore[no-untyped-def]
    async def never(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    ok = await serve(fixed(extra=b"Cache-Control: private, max-age=30\r\n"))
    error_page = await serve(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\n<h1/>"
    )
    not_graphql = await serve(fixed(b'{"hello":1}'))
    slow = await serve(never)
    # a generous default (the machine may be busy); the silent server gets its own short one
    client = SubgraphClient(default_timeout=10.0)
    try:
        answer = await client.send(
            _request(f"http://127.0.0.1:{ok.port}/graphql", body=b'{"query":"{a}"}')
        )
        # the header as a typed field, not inside the GraphQL body
        private = CacheControl(max_age=30, private=True)
        assert answer == SubgraphResponse({"data": {"ok": True}}, cache_control=private)
        sent = ok.requests[0]
        assert b"content-type: application/json" in sent and b'{"query":"{a}"}' in sent
        failures = [
            await client.send(_request(f"http://127.0.0.1:{error_page.port}/")),
            await client.send(_request(f"http://127.0.0.1:{not_graphql.port}/")),
            await client.send(_request(f"http://127.0.0.1:{slow.port}/", timeout=0.3)),
            await client.send(
                _request(f"http://127.0.0.1:{ok.port}/", headers={"authorization": "a\r\nb: c"})
            ),
        ]
        assert all(isinstance(f, SubgraphFailure) for f in failures)
        assert [(f.code, f.reason) for f in failures[:3]] == [  # type: ignore[union-attr]
            ("SUBREQUEST_HTTP_ERROR", "HTTP 502 Bad Gateway"),
            ("SUBREQUEST_MALFORMED_RESPONSE", "response is not a GraphQL response"),
            ("SUBREQUEST_TIMEOUT", "no response within 0.3s"),
        ]
        assert failures[3].code == "SUBREQUEST_HTTP_ERROR"  # type: ignore[union-attr]
    finally:
        await client.aclose()


def _request(
    url: str, body: bytes = b"{}", headers: dict[str, str] | None = None, timeout: float = 10.0
) -> SubgraphRequest:
    return SubgraphRequest("a", url, body, headers or {}, timeout)
