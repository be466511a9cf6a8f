"""Precomputed subgraphs: the benchmark's four subgraphs in one process, each on its own socket,
answering from a dict keyed by the request body, so that a request costs almost nothing.

    python -m bench.subgraph_server NAME=FD ...   (already-listening sockets, from bench.compare)

The first time a body is seen, its answer is computed with graphql-core and kept (the warm-up
fills the dict); every later request with the same body gets the same bytes back. A raw asyncio
protocol with httptools' parser (HTTP/1.1, keep-alive), on uvloop. `GET /stats` on any of the
sockets answers the requests counted so far per subgraph and how many bodies had to be computed.
Headers (Authorization included) are read and ignored; every answer says `cache-control: no-store`,
so no gateway may cache it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

import httptools
import orjson
import uvloop

from bench.federation import subgraph_sdl
from bench.federation.executable import executor
from bench.federation.resolvers import ROOTS

HEAD = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncache-control: no-store\r\n"


def http_response(body: bytes, status: int = 200, keep_alive: bool = True) -> bytes:
    reason = b"OK" if status == 200 else b"Bad Request"
    connection = b"" if keep_alive else b"connection: close\r\n"
    return HEAD % (status, reason) + connection + b"content-length: %d\r\n\r\n" % len(body) + body


class Subgraph:
    """One subgraph's memo of answers; `answer(body)` is the whole HTTP response."""

    def __init__(self, name: str, stats: Stats) -> None:
        self.name = name
        self.stats = stats
        self.execute: Callable[[dict[str, Any]], dict[str, Any]] = executor(
            subgraph_sdl(name), ROOTS[name]
        )
        self.memo: dict[bytes, bytes] = {}

    def answer(self, body: bytes) -> bytes:
        self.stats.requests[self.name] += 1
        found = self.memo.get(body)
        if found is None:
            self.stats.computed[self.name] += 1
            try:
                request = orjson.loads(body)
                found = http_response(orjson.dumps(self.execute(request)))
            except (orjson.JSONDecodeError, AttributeError, TypeError):
                found = http_response(b'{"errors":[{"message":"bad request"}]}', 400)
            self.memo[body] = found
        return found


class Stats:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.computed: Counter[str] = Counter()

    def body(self) -> bytes:
        return orjson.dumps({"requests": self.requests, "computed": self.computed})


class Connection(asyncio.Protocol):
    def __init__(self, subgraph: Subgraph) -> None:
        self.subgraph = subgraph
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's sets TCP_NODELAY itself

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.chunks = []

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        keep_alive = self.parser.should_keep_alive()
        if self.parser.get_method() == b"POST":
            response = self.subgraph.answer(b"".join(self.chunks))
            if not keep_alive:
                response = response.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
        else:
            response = http_response(self.subgraph.stats.body(), keep_alive=keep_alive)
        self.transport.write(response)
        if not keep_alive:
            self.transport.close()


async def serve(sockets: dict[str, socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    servers = []
    for name, sock in sockets.items():
        subgraph = Subgraph(name, stats)
        servers.append(
            await loop.create_server(lambda s=subgraph: Connection(s), sock=sock, backlog=1024)
        )
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subgraph_server")
    parser.add_argument("listen", nargs="+", metavar="NAME=FD")
    args = parser.parse_args(argv)
    sockets = {}
    for item in args.listen:
        name, _, fd = item.partition("=")
        sockets[name] = socket.socket(fileno=int(fd))
    uvloop.run(serve(sockets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
