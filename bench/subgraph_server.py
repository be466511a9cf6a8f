"""Precomputed subgraphs: several subgraphs in one process, each on its own socket, answering
from a dict keyed by the request body, so that a request costs almost nothing.

    python -m bench.subgraph_server NAME=FD[=UPSTREAM_URL] ... [--gateway-keys DIR]

The sockets are already listening. The first time a body is seen, its answer is computed and kept
(the warm-up fills the dict): without an upstream, by a subgraph of bench.federation with
graphql-core; with one, by that real subgraph, asked with a token for it signed with the keys of
`--gateway-keys DIR`, as Rugzak would mint for Ann (every caller in the benchmark is Ann, so the
answer is the same for all; what the calling gateway sent, if anything, is not passed on).
Every later request with the same body gets the same bytes back. A raw asyncio protocol with
httptools' parser (HTTP/1.1, keep-alive), on uvloop. `GET /stats` on any of the sockets answers
the requests counted so far per subgraph and how many bodies had to be computed. Every answer says
`cache-control: no-store`, so no gateway may cache it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import cast

import httptools
import httpx
import orjson
import uvloop

from auth.gateway_keys import GatewayKeys
from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter
from bench.federation import subgraph_sdl
from bench.federation.executable import executor
from bench.federation.resolvers import ROOTS

FORWARDED: tuple[bytes, ...] = ()  # nothing of the calling gateway's request goes upstream
# the caller the upstream subgraphs are asked for: Ann, as bench.compare's tokens say
ANN = Principal(subject="bench-ann", insz="85671012385", acr="substantial", token="-")
HEAD = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncache-control: no-store\r\n"


def http_response(body: bytes, status: int = 200, keep_alive: bool = True) -> bytes:
    reason = b"OK" if status == 200 else b"Bad Request"
    connection = b"" if keep_alive else b"connection: close\r\n"
    return HEAD % (status, reason) + connection + b"content-length: %d\r\n\r\n" % len(body) + body


Compute = Callable[[bytes, dict[str, str]], Awaitable[tuple[int, bytes]]]


class Subgraph:
    """One subgraph's memo of whole HTTP responses, keyed by the request body."""

    def __init__(self, name: str, stats: Stats, compute: Compute) -> None:
        self.name = name
        self.stats = stats
        self.compute = compute
        self.memo: dict[bytes, bytes] = {}

    def known(self, body: bytes) -> bytes | None:
        self.stats.requests[self.name] += 1
        return self.memo.get(body)

    async def fill(self, body: bytes, headers: dict[str, str]) -> bytes:
        self.stats.computed[self.name] += 1
        status, answer = await self.compute(body, headers)
        response = http_response(answer, status)
        if status == 200:
            self.memo[body] = response
        return response


def local(name: str) -> Compute:
    """A benchmark subgraph of bench.federation, resolved with graphql-core."""
    execute = executor(subgraph_sdl(name), ROOTS[name])

    async def compute(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return 200, orjson.dumps(execute(orjson.loads(body)))
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            return 400, b'{"errors":[{"message":"bad request"}]}'

    return compute


def upstream(
    name: str, url: str, client: httpx.AsyncClient, minter: SubgraphTokenMinter | None
) -> Compute:
    """A real subgraph at `url`, asked once per body, for Ann."""

    async def compute(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if minter is not None:
            headers = {**headers, "authorization": f"Bearer {minter.token(ANN, name, ALL_CLAIMS)}"}
        answer = await client.post(url, content=body, headers=headers)
        return answer.status_code, answer.content

    return compute


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
        self.headers: dict[str, str] = {}

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
        self.headers = {"content-type": "application/json"}

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in FORWARDED:
            self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        keep_alive = self.parser.should_keep_alive()
        if self.parser.get_method() != b"POST":
            self.send(http_response(self.subgraph.stats.body()), keep_alive)
            return
        body = b"".join(self.chunks)
        known = self.subgraph.known(body)
        if known is not None:
            self.send(known, keep_alive)
        else:  # clients here send one request at a time per connection: no reordering
            task = asyncio.get_running_loop().create_task(self.subgraph.fill(body, self.headers))
            task.add_done_callback(lambda done: self.send(done.result(), keep_alive))

    def send(self, response: bytes, keep_alive: bool) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        if not keep_alive:
            response = response.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
        self.transport.write(response)
        if not keep_alive:
            self.transport.close()


async def serve(
    sockets: dict[str, tuple[socket.socket, str]], minter: SubgraphTokenMinter | None
) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    servers = []
    client = httpx.AsyncClient(timeout=60)
    for name, (sock, url) in sockets.items():
        compute = upstream(name, url, client, minter) if url else local(name)
        subgraph = Subgraph(name, stats, compute)
        servers.append(
            await loop.create_server(lambda s=subgraph: Connection(s), sock=sock, backlog=1024)
        )
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subgraph_server")
    parser.add_argument("listen", nargs="+", metavar="NAME=FD[=UPSTREAM_URL]")
    parser.add_argument("--gateway-keys", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    keys = args.gateway_keys
    minter = SubgraphTokenMinter(GatewayKeys.load_or_create(keys)) if keys else None
    sockets = {}
    for item in args.listen:
        name, fd, url = [*item.split("=", 2), ""][:3]
        sockets[name] = (socket.socket(fileno=int(fd)), url)
    uvloop.run(serve(sockets, minter))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
