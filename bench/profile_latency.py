"""Latency of the whole-profile query (examples/profile.graphql) for Ann, through Rugzak and, in
the same run, through Hive Gateway (Rust planner) over the same subgraphs and supergraph.

    .venv/bin/python -m bench.profile_latency [--requests 200]

Requests are sequential (one in flight), after 20 warm-up requests per gateway; it prints the
median, p90 and p99 in milliseconds, the subgraph requests per query, and Hive's ratio to Rugzak.
Not a test: numbers depend on the machine. The subgraphs run on the same machine, so the
latencies include their work (SQLite reads, Strawberry execution).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, reference_stack
from tests.oracles.hive import hive_gateway


def measure(url: str, token: str, requests: int) -> list[float]:
    headers = {"authorization": f"Bearer {token}"}
    body = {"query": PROFILE_QUERY}
    with httpx.Client(timeout=30) as client:
        for _ in range(20):
            client.post(url, json=body, headers=headers).raise_for_status()
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            response = client.post(url, json=body, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and "errors" not in response.json()
    return times


def summary(name: str, times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f"{name:8} median {statistics.median(times):6.2f} ms  p90 {q[89]:6.2f}  p99 {q[98]:6.2f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, reference_stack(Path(tmp)) as stack:
        token = stack.token(ANN)
        probe = stack.query(PROFILE_QUERY, insz=ANN)
        calls = probe.headers["x-subgraph-requests"]
        sdl = SUPERGRAPH.read_text(encoding="utf-8")
        for name, url in stack.subgraph_urls().items():
            sdl = re.sub(rf'(name: "{name}", url: ")[^"]+', rf"\g<1>{url}", sdl)
        supergraph = Path(tmp) / "supergraph.graphql"
        supergraph.write_text(sdl, encoding="utf-8")
        with hive_gateway(supergraph) as hive:
            ours = measure(stack.graphql_url, token, args.requests)
            theirs = measure(hive.graphql_url, token, args.requests)
        print(f"whole-profile query, {args.requests} sequential requests each")
        print(summary("rugzak", ours) + f"  subgraph requests/query {calls}")
        print(summary("hive", theirs))
        ratio = statistics.median(theirs) / statistics.median(ours)
        print(f"hive median / rugzak median = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
