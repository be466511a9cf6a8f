"""Checking one gateway's answer before the load, and measuring one round of load on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench.procstat import PeakRss, cpu_seconds, group_pids, wait_idle
from bench.wrk import Load, run_round
from tests.servers import Server


@dataclass
class Check:
    ok: bool
    length: int  # bytes of the answer, which every answer under load must have
    subgraph_requests: int | None  # counted at the subgraphs for this one request
    problem: str = ""


def _first_difference(got: Any, want: Any, path: str = "") -> str:
    if type(got) is not type(want):
        return f"{path or '/'}: {str(got)[:120]} instead of {str(want)[:120]}"
    if isinstance(want, dict):
        for key in want.keys() | got.keys():
            if key not in got or key not in want:
                return f"{path}/{key}: {'missing' if key not in got else 'unexpected'}"
            found = _first_difference(got[key], want[key], f"{path}/{key}")
            if found:
                return found
    elif isinstance(want, list):
        if len(got) != len(want):
            return f"{path}: {len(got)} items instead of {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            found = _first_difference(g, w, f"{path}/{i}")
            if found:
                return found
    elif got != want:
        return f"{path}: {got!r} instead of {want!r}"
    return ""


def check_answer(
    server: Server,
    body: bytes,
    token: str,
    expected: dict[str, Any] | None,
    subgraph_requests: Callable[[], int] | None,
) -> tuple[Check, Any]:
    """Send the request once and compare the answer with `expected` (the JSON, not the bytes);
    with no `expected`, any answer without errors passes. Returns the check and the answer."""
    headers = {"content-type": "application/json", "accept": "application/json",
               "authorization": f"Bearer {token}"}  # fmt: skip
    before = subgraph_requests() if subgraph_requests else None
    response = httpx.post(server.url + "/graphql", content=body, headers=headers, timeout=60)
    calls = subgraph_requests() - before if subgraph_requests and before is not None else None
    try:
        got = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return Check(False, 0, calls, f"HTTP {response.status_code}, not JSON"), None
    problem = "" if response.status_code == 200 else f"HTTP {response.status_code}; "
    if expected is not None:
        problem += _first_difference(got, expected)
    elif not isinstance(got, dict) or "errors" in got or not got.get("data"):
        problem += f"errors: {str(got)[:300]}"
    return Check(not problem, len(response.content), calls, problem), got


def measure_round(
    server: Server,
    load: Load,
    mode: str,
    expect_length: int,
    subgraph_requests: Callable[[], int] | None,
) -> dict[str, Any]:
    """One wrk round, with the gateway's peak RSS, CPU time and the subgraph requests it made."""
    pids = group_pids(server.proc.pid)
    cpu_before = cpu_seconds(pids)
    calls_before = subgraph_requests() if subgraph_requests else None
    with PeakRss(server.proc.pid) as rss:
        result: dict[str, Any] = run_round(load, server.url + "/graphql", mode, expect_length)
    # the requests in flight when wrk stopped (one per connection) are still answered: wait for
    # them before the next round, and count their CPU time and subgraph calls as theirs
    wait_idle(server.proc.pid)
    cpu = cpu_seconds(group_pids(server.proc.pid)) - cpu_before
    handled = int(result["requests"]) + load.connections
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["peak_rss_bytes"] = rss.peak
    result["cpu_ms_per_request"] = cpu * 1000 / handled
    if subgraph_requests and calls_before is not None:
        result["subgraph_requests_per_query"] = (subgraph_requests() - calls_before) / handled
    return result
