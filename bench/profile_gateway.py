"""Where the gateway's time goes on the federation benchmark's deep query.

    python -m bench.profile_gateway                 # cProfile, in process: top functions
    python -m bench.profile_gateway --py-spy 20     # py-spy on a real server under load

In process (the default), one GatewayApp handles the deep query over the benchmark's subgraphs
(bench.stacks, answers precomputed), first unprofiled (ms per request), then under cProfile;
the top functions by own time are printed. Deterministic, and fine-grained, but cProfile itself
inflates Python-heavy code about threefold.

With --py-spy SECONDS, Rugzak runs as `rugzak serve` and 16 concurrent clients send the query
while py-spy samples the process (100 Hz, no slowdown): the top frames by own samples are
printed and the raw stacks written for a flame graph (e.g. speedscope, or flamegraph.pl).
py-spy comes with the bench extra (`make bench` installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.stacks import federation_stack
from tests.servers import ROOT, start_python_server

QUERY = (ROOT / "bench" / "federation" / "query.graphql").read_text(encoding="utf-8")


async def _in_process(supergraph: Path, requests: int, top: int) -> None:
    from gateway.app import GatewayApp
    from gateway.config import GatewayConfig

    app = GatewayApp(GatewayConfig(supergraph=str(supergraph)))
    handler = app.handler
    try:
        for _ in range(5):  # plans, connections
            result = await handler.handle(QUERY, None, {}, {})
        if result.body.get("errors"):
            raise SystemExit(f"the query failed: {result.body['errors']}")
        started = time.perf_counter()
        for i in range(requests):
            await handler.handle(QUERY, None, {}, {"authorization": f"Bearer a{i}"})
        per_request = (time.perf_counter() - started) * 1000 / requests
        print(f"{per_request:.2f} ms per request (one at a time, no profiler)")
        profile = cProfile.Profile()
        profile.enable()
        for i in range(requests):
            await handler.handle(QUERY, None, {}, {"authorization": f"Bearer b{i}"})
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(top)
    finally:
        await app.client.aclose()


async def _load(url: str, seconds: float, clients: int) -> int:
    deadline = time.monotonic() + seconds
    sent = 0

    async def client(http: httpx.AsyncClient, index: int) -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            headers = {"x-client": str(index)}
            await http.post(url, json={"query": QUERY}, headers=headers)
            sent += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http, i) for i in range(clients)))
    return sent


def _py_spy(supergraph: Path, seconds: float, top: int, out: Path) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install -c constraints.txt '.[bench]'")
    argv = ["-m", "gateway", "serve", "--supergraph", str(supergraph), "--reload-interval", "0"]
    server = start_python_server(argv, "rugzak (profiled)", probe="/health")
    try:
        asyncio.run(_load(server.url + "/graphql", 2, 4))  # warm up
        record = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)),
             "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sent = asyncio.run(_load(server.url + "/graphql", seconds, 16))
        record.wait(timeout=seconds + 30)
    finally:
        server.stop()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            own[re.sub(r":\d+\)$", ")", stack.split(";")[-1])] += int(count)  # per function
            total += int(count)
    print(f"{sent / seconds:.0f} requests/s under load; {total} samples; raw stacks in {out}")
    for frame, samples in own.most_common(top):
        print(f"{100 * samples / max(total, 1):5.1f}%  {frame}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_gateway", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="in process: how many")
    parser.add_argument("--top", type=int, default=25, help="how many functions to show")
    parser.add_argument("--py-spy", type=float, metavar="SECONDS", help="profile under load")
    parser.add_argument("--out", type=Path, default=ROOT / ".rugzak" / "bench" / "py-spy.txt")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, federation_stack(Path(tmp), "1") as stack:
        if args.py_spy:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            _py_spy(stack.supergraph, args.py_spy, args.top, args.out)
        else:
            asyncio.run(_in_process(stack.supergraph, args.requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
