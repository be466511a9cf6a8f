"""Where the gateway's time goes on the benchmark's queries, with the benchmark's tokens.

    python -m bench.profile_gateway                       # cProfile, in process: top functions
    python -m bench.profile_gateway --py-spy 20           # py-spy on a real server under load
    python -m bench.profile_gateway --scenario profile    # Ann's citizen profile instead

`--scenario federation` (the default) is the federation benchmark's deep query over its
precomputed subgraphs; `profile` is Ann's whole profile over the reference subgraphs (behind a
memo, as in `make bench`). Every request carries its own RS256 token, verified as in the bench.

In process (the default), one GatewayApp handles the query, first unprofiled (ms per request),
then under cProfile; the top functions by own time are printed. Deterministic, and fine-grained,
but cProfile itself inflates Python-heavy code about threefold.

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
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.compare import CITIZEN_CLAIMS, PROFILE_QUERY
from bench.federation import QUERY as DEEP_QUERY
from bench.gateways import RUGZAK_PLAIN
from bench.stacks import federation_stack, profile_stack
from bench.tokens import TokenPool
from gateway.pipeline.context import RequestContext
from tests.servers import ROOT, start_python_server


@dataclass(frozen=True)
class _Scenario:
    query: str
    supergraph: Path
    tokens: list[str]
    env: dict[str, str]  # what Rugzak reads to trust the tokens


def _headers(scenario: _Scenario, index: int) -> dict[str, str]:
    return {"authorization": "Bearer " + scenario.tokens[index % len(scenario.tokens)]}


async def _one(app: Any, scenario: _Scenario, index: int) -> Any:
    """What the server does for one request after reading its body: verify the token, then
    plan (cached), execute and shape."""
    principal = await app.verifier.authenticate(_headers(scenario, index)["authorization"])
    headers = app.credentials.for_caller(principal, {})
    context = RequestContext(scenario.query, principal=principal, headers=headers)
    return await app.handler.handle(context)


async def _in_process(scenario: _Scenario, requests: int, top: int) -> None:
    from auth.verifier import verifier_from_env
    from gateway.config import GatewayConfig
    from gateway.http.app import GatewayApp
    from gateway.limits.settings import LimitSettings

    verifier = verifier_from_env({**os.environ, **scenario.env})
    # the deep query costs more than the default limit allows; the bench lets it through too
    limits = LimitSettings.parse(RUGZAK_PLAIN["RUGZAK_OPERATION_LIMITS"])
    config = GatewayConfig(supergraph=str(scenario.supergraph), operation_limits=limits)
    app = GatewayApp(config, verifier)
    try:
        for i in range(5):  # plans, connections
            result = await _one(app, scenario, i)
        if result.body.get("errors"):
            raise SystemExit(f"the query failed: {result.body['errors']}")
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(requests):
            await _one(app, scenario, i)
        per_request = (time.perf_counter() - started) * 1000 / requests
        cpu_per_request = (time.process_time() - cpu) * 1000 / requests
        print(
            f"{per_request:.2f} ms per request (one at a time, no profiler), "
            f"{cpu_per_request:.2f} ms of the gateway's CPU"
        )
        profile = cProfile.Profile()
        profile.enable()
        for i in range(requests):
            await _one(app, scenario, requests + i)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(top)
    finally:
        await app.client.aclose()


async def _load(url: str, scenario: _Scenario, seconds: float, clients: int) -> int:
    deadline = time.monotonic() + seconds
    sent = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            await http.post(url, json={"query": scenario.query}, headers=_headers(scenario, sent))
            sent += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return sent


def _py_spy(scenario: _Scenario, seconds: float, top: int, out: Path) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install -c constraints.txt '.[bench]'")
    argv = ["-m", "gateway", "serve", "--supergraph", str(scenario.supergraph),
            "--reload-interval", "0"]  # fmt: skip
    server = start_python_server(argv, "rugzak (profiled)", probe="/health", env=scenario.env)
    try:
        asyncio.run(_load(server.url + "/graphql", scenario, 2, 4))  # warm up
        record = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)),
             "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sent = asyncio.run(_load(server.url + "/graphql", scenario, seconds, 16))
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
    parser.add_argument("--scenario", choices=("federation", "profile"), default="federation")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        pool = TokenPool()
        env = pool.env(pool.write_jwks(workdir / "jwks.json"))
        if args.scenario == "federation":
            subgraphs = stack.enter_context(federation_stack(workdir, "1"))
            query, claims = DEEP_QUERY, None
        else:
            subgraphs = stack.enter_context(profile_stack(workdir, "1", env))
            query, claims = PROFILE_QUERY, CITIZEN_CLAIMS
        tokens = [pool.mint(f"profiled-{i}", claims) for i in range(256)]
        scenario = _Scenario(query, subgraphs.supergraph, tokens, env)
        if args.py_spy:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            _py_spy(scenario, args.py_spy, args.top, args.out)
        else:
            asyncio.run(_in_process(scenario, args.requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
