"""The gateway's CPU per subgraph request, by HTTP client: how the subgraph transport was chosen.

    .venv/bin/python -m bench.transport_cost [--requests 3000] [--rounds 3]

A precomputed subgraph (bench.subgraph_server, on core 1) answers two requests the gateway
makes in the benchmark: a small root query, and an `_entities` call with 100 representations.
This process (on core 0) sends each with 16 in flight through every client in turn, rounds
interleaved, and prints this process's CPU time per request (user + system, which includes the
kernel's share of loopback TCP) and the ratio to Rugzak's transport:

- httpx + aiohttp: `httpx.AsyncClient` over httpx-aiohttp's transport (Rugzak before)
- httpx (own pool): `httpx.AsyncClient` with httpx's default transport (httpcore)
- aiohttp: `aiohttp.ClientSession` used directly, without httpx
- httpx + http1: `httpx.AsyncClient` over gateway.execution.http1's transport
- aiohttp transport, http1 transport: an httpx.Request straight to the transport, no client
- http1 raw: gateway.execution.http1 without httpx's models (Rugzak now, for http:// subgraphs)

The client runs on uvloop, as the gateway does under `rugzak serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
import httpx
import orjson
import uvloop
from httpx_aiohttp import AiohttpTransport

from bench.stacks import start_memo
from gateway.execution.http1 import Http1Transport, head

SMALL = orjson.dumps({"query": "{ topProducts { upc name price weight } }"})
ENTITIES = orjson.dumps(
    {
        "query": "query($representations:[_Any!]!){_entities(representations:$representations)"
        "{...on Product{upc inStock shippingEstimate}}}",
        "variables": {
            "representations": [
                {"__typename": "Product", "upc": str(i % 9 + 1), "price": 899, "weight": 100}
                for i in range(100)
            ]
        },
    }
)
HEADERS = {"content-type": "application/json", "authorization": "Bearer " + "x" * 600}

Send = Callable[[bytes], Awaitable[bytes]]


def _httpx_client(
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[Send, Callable[[], Awaitable[None]]]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    client = httpx.AsyncClient(transport=transport, limits=limits, timeout=10)

    async def send(body: bytes) -> bytes:
        response = await client.post(URL, content=body, headers=HEADERS)
        return response.content

    return send, client.aclose


def _aiohttp_client() -> tuple[Send, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))

    async def send(body: bytes) -> bytes:
        async with session.post(URL, data=body, headers=HEADERS) as response:
            return await response.read()

    return send, session.close


def _transport_client(
    transport: httpx.AsyncBaseTransport,
) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """httpx's transport interface without AsyncClient: an httpx.Request in, httpx.Response out."""
    url = httpx.URL(URL)
    timeout = {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}

    async def send(body: bytes) -> bytes:
        request = httpx.Request("POST", url, content=body, headers=HEADERS,
                                extensions={"timeout": timeout})  # fmt: skip
        response = await transport.handle_async_request(request)
        return await response.aread()

    return send, transport.aclose


def _raw_http1_client() -> tuple[Send, Callable[[], Awaitable[None]]]:
    transport = Http1Transport()
    url = httpx.URL(URL)
    host, port = url.host, url.port or 80
    raw = [(k.encode(), v.encode()) for k, v in HEADERS.items()]

    async def send(body: bytes) -> bytes:
        request_head = head("POST", url.raw_path, url.netloc, raw)
        response = await transport.exchange(host, port, request_head, body, 10.0)
        return response.body

    return send, transport.aclose


def _clients() -> dict[str, Callable[[], tuple[Send, Callable[[], Awaitable[None]]]]]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return {
        "httpx + aiohttp": lambda: _httpx_client(AiohttpTransport(limits=limits)),
        "httpx (own pool)": lambda: _httpx_client(None),
        "aiohttp": _aiohttp_client,
        "httpx + http1": lambda: _httpx_client(Http1Transport()),
        "aiohttp transport": lambda: _transport_client(AiohttpTransport(limits=limits)),
        "http1 transport": lambda: _transport_client(Http1Transport()),
        "http1 raw": _raw_http1_client,
    }


URL = ""


async def _round(make: Callable[[], tuple[Send, Callable[[], Awaitable[None]]]], body: bytes,
                 requests: int, concurrency: int) -> float:  # fmt: skip
    send, close = make()
    try:
        expected = await send(body)
        for _ in range(50):
            await send(body)  # connections, warm paths
        left = requests
        started = time.process_time()

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                if await send(body) != expected:
                    raise SystemExit("a different answer")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (time.process_time() - started) * 1e6 / requests
    finally:
        await close()


async def _measure(requests: int, rounds: int, concurrency: int) -> None:
    clients = _clients()
    for label, body in (("small root query", SMALL), ("_entities, 100 representations", ENTITIES)):
        costs: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(rounds):
            for name, make in clients.items():
                costs[name].append(await _round(make, body, requests, concurrency))
        base = statistics.median(costs["http1 raw"])
        print(f"\n{label} ({len(body)} bytes sent), {concurrency} in flight, "
              f"CPU µs per request (median of {rounds} rounds of {requests})")  # fmt: skip
        for name, values in costs.items():
            median = statistics.median(values)
            print(f"  {name:18} {median:8.1f}   {median / base:5.2f}x")


def main(argv: Sequence[str] | None = None) -> int:
    global URL
    parser = argparse.ArgumentParser(prog="python -m bench.transport_cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory() as tmp:
        server, urls = start_memo({"products": ""}, Path(tmp), "1", "transport-subgraph")
        try:
            URL = urls["products"]
            uvloop.run(_measure(args.requests, args.rounds, args.concurrency))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
