"""What tracing and the JSON request log cost the gateway per request, in one run.

    .venv/bin/python -m bench.tracing_cost [--requests 2000] [--rounds 5] [--scenario profile]

In process, so that subgraph latency does not drown the difference: one GatewayApp answers
the federation benchmark's deep query (or Ann's whole profile) over the memoized subgraphs
(bench/stacks.py), each request through the whole Starlette app (ASGI, no socket), one at a
time. Modes, in interleaved rounds so that drift hits all alike:

- off: no tracing (the default), the request log line not written (log level warning);
- on 1.0: tracing with sample ratio 1 to a no-op exporter (it counts and drops the spans)
  behind the SDK's batch processor
  (what --otlp-endpoint sets up, without the network);
- on 0.0: tracing on, but no new trace sampled (non-recording spans, traceparent still sent);
- json log: no tracing, the JSON request line written (to /dev/null).

Prints the wall and CPU time per request of each mode (median and best round) and its ratio to
off; what a switched-off call site costs, and one span in a tight loop, as shares of a request.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from bench.compare import CITIZEN_CLAIMS, PROFILE_QUERY
from bench.federation import QUERY as DEEP_QUERY
from bench.gateways import RUGZAK_PLAIN
from bench.stacks import federation_stack, profile_stack
from bench.tokens import TokenPool
from gateway import tracing
from gateway.log_format import JsonFormatter

MODES = ("off", "on 1.0", "on 0.0", "json log")


class _Counting(SpanExporter):
    """Counts the spans and drops them, as an OTLP exporter forgets them once sent (keeping
    thousands in memory would bill the garbage collector to tracing)."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def _set_mode(mode: str, handler: logging.Handler) -> _Counting:
    """Switch to `mode`; the exporter its spans go to."""
    tracing.shutdown()
    exporter = _Counting()
    access = logging.getLogger("rugzak.access")
    access.setLevel(logging.WARNING)
    access.removeHandler(handler)
    if mode == "on 1.0":
        tracing.configure(1.0, exporter=exporter)
    elif mode == "on 0.0":
        tracing.configure(0.0, exporter=exporter)
    elif mode == "json log":
        access.setLevel(logging.INFO)
        access.addHandler(handler)
    return exporter


async def _round(
    client: httpx.AsyncClient, body: dict[str, Any], tokens: list[str], requests: int
) -> tuple[float, float]:
    """Milliseconds per request: wall and CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(requests):
        headers = {"authorization": "Bearer " + tokens[i % len(tokens)]}
        response = await client.post("/graphql", json=body, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"the query failed: {response.text[:300]}")
    wall = (time.perf_counter() - started) * 1000 / requests
    return wall, (time.process_time() - cpu) * 1000 / requests


async def _measure(
    supergraph: Path, env: dict[str, str], query: str, tokens: list[str], args: Any
) -> dict[str, list[tuple[float, float]]]:
    from auth.verifier import verifier_from_env
    from gateway.config import GatewayConfig
    from gateway.http.app import GatewayApp
    from gateway.limits.settings import LimitSettings

    verifier = verifier_from_env({**os.environ, **env})
    limits = LimitSettings.parse(RUGZAK_PLAIN["RUGZAK_OPERATION_LIMITS"])
    app = GatewayApp(GatewayConfig(supergraph=str(supergraph), operation_limits=limits), verifier)
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(JsonFormatter())
    logging.getLogger("rugzak.access").propagate = False
    results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    transport = httpx.ASGITransport(app=app.starlette())
    body = {"query": query}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            await _round(client, body, tokens, 20)  # plans, connections
            for round_ in range(args.rounds):
                turn = round_ % len(MODES)  # each mode first in turn
                for mode in MODES[turn:] + MODES[:turn]:
                    exporter = _set_mode(mode, handler)
                    results[mode].append(await _round(client, body, tokens, args.requests))
                    if mode == "on 1.0":
                        tracing.shutdown()  # flushes the batch
                        spans = exporter.spans / args.requests
                        results["spans per request"] = [(spans, spans)]
    finally:
        tracing.shutdown()
        await app.client.aclose()
    return results


def _one_step(runs: int) -> float:
    """Nanoseconds of one step span (`with tracing.step(name): pass`), as tracing is now."""

    def once() -> None:
        with tracing.step("plan"):
            pass

    return min(timeit.repeat(once, number=runs, repeat=5)) / runs * 1e9


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing_cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=5)
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
        tokens = [pool.mint(f"traced-{i}", claims) for i in range(256)]
        results = asyncio.run(_measure(subgraphs.supergraph, env, query, tokens, args))
    print(f"{args.scenario}: {args.rounds} rounds of {args.requests} requests per mode")
    # the median round, and the best one (the least disturbed by others on a shared machine)
    for label, pick in (("median", statistics.median), ("best", min)):

        def chosen(mode: str, i: int, pick: Callable[[Any], float] = pick) -> float:
            return pick([r[i] for r in results[mode]])

        off_wall, off_cpu = chosen("off", 0), chosen("off", 1)
        for mode in MODES:
            wall, cpu = chosen(mode, 0), chosen(mode, 1)
            print(
                f"{label:<6} {mode:<9} {wall:7.3f} ms wall ({wall / off_wall:5.3f}x)  "
                f"{cpu:7.3f} ms CPU ({cpu / off_cpu:5.3f}x) per request"
            )
    spans = results["spans per request"][0][0]
    print(f"on 1.0: {spans:.1f} spans per request")
    request_ns = statistics.median(r[1] for r in results["off"]) * 1e6
    step = _one_step(200_000)
    print(f"tracing off: {step:.0f} ns per call site; 8 per request = {step * 8 / request_ns:.4%}")
    _set_mode("on 1.0", logging.NullHandler())
    span = _one_step(20_000)
    tracing.shutdown()
    added = span * spans / request_ns
    print(f"tracing on: {span / 1000:.1f} µs per span (best of 5); x {spans:.0f} = {added:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
