"""Other users' latency while the registry composes a heavy candidate (issue 14: a heavy 900 KB
SDL composes without raising other users' p99 above twice its idle value).

A gateway with a registry (SQLite) over the registry tests' fixture subgraphs; users send
`{ municipalities { name } }` in a closed loop (each waits `--think` seconds between requests)
and every answer is checked. Phases, one after another:

    idle      nothing else happens
    check     `registry check` of a subgraph whose SDL is ~900 KB (composed in the worker)
    add       `registry add` of it: composed in the worker, then the ~1 MB supergraph is
              loaded by the gateway (in a thread) and swapped in
    after     nothing else happens again

For each: requests, failures, p50, p99 and max in ms, and what the registry call answered.

    .venv/bin/python -m bench.registry_load [--sdl-bytes 900000] [--users 4] [--idle 15]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.registry.harness import BASE_ANSWER, BASE_QUERY, make_world
from tests.servers import start_python_server

RESULTS = Path(__file__).resolve().parent / "results" / "registry_load.json"


@dataclass
class Users:
    url: str
    users: int
    think: float
    samples: list[tuple[float, float, bool]] = field(default_factory=list)  # (at, seconds, ok)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _user(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    answer = client.post(self.url + "/graphql", json={"query": BASE_QUERY})
                    ok = answer.status_code == 200 and answer.json() == BASE_ANSWER
                except httpx.HTTPError:
                    ok = False
                self.samples.append((started, time.monotonic() - started, ok))
                time.sleep(self.think)

    def __enter__(self) -> Users:
        self._threads = [
            threading.Thread(target=self._user, daemon=True) for _ in range(self.users)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def between(self, start: float, end: float) -> dict[str, Any]:
        chosen = [(s, ok) for at, s, ok in self.samples if start <= at < end]
        times = sorted(s * 1000 for s, _ in chosen)
        if not times:
            return {"requests": 0}
        return {
            "requests": len(times),
            "failed": sum(1 for _, ok in chosen if not ok),
            "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
            "max_ms": round(times[-1], 1),
            "seconds": round(end - start, 1),
        }


def registry(url: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/registry{path}",
        json=body,
        headers={"authorization": f"Bearer {token}"},
        timeout=900,
    )
    out: dict[str, Any] = answer.json()
    return {
        "status": answer.status_code,
        "code": out.get("code"),
        "composeMs": out.get("composeMs"),
        "message": out.get("message"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sdl-bytes", type=int, default=900_000)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.02)
    parser.add_argument("--idle", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rugzak-registry-load-") as tmp:
        world, stop_world = make_world(Path(tmp))
        hostile = start_python_server(
            ["-m", "tests.security.hostile_server"], "SDL server", probe="/stats"
        )
        gateway = world.start_gateway(f"sqlite:{Path(tmp) / 'registry.sqlite3'}")
        try:
            token = world.token("44021")
            sdl_url = f"{hostile.url}/sdl?bytes={args.sdl_bytes}"
            report: dict[str, Any] = {"sdlBytes": args.sdl_bytes, "users": args.users}
            with Users(gateway.url, args.users, args.think) as users:
                time.sleep(2)  # connections made, caches warm
                marks = [time.monotonic()]
                time.sleep(args.idle)
                marks.append(time.monotonic())
                report["checkAnswer"] = registry(
                    gateway.url, token, "/check/heavy", {"url": sdl_url}
                )
                marks.append(time.monotonic())
                report["addAnswer"] = registry(
                    gateway.url, token, "/subgraphs/heavy", {"url": sdl_url}
                )
                marks.append(time.monotonic())
                time.sleep(args.idle)
                marks.append(time.monotonic())
            phases = ("idle", "check", "add", "after")
            for name, (start, end) in zip(phases, itertools.pairwise(marks), strict=True):
                report[name] = users.between(start, end)
            idle_p99 = report["idle"]["p99_ms"]
            for name in ("check", "add", "after"):
                report[name]["p99_vs_idle"] = round(report[name]["p99_ms"] / idle_p99, 2)
        finally:
            gateway.stop()
            hostile.stop()
            stop_world()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
