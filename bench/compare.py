"""Rugzak side by side with Apollo Gateway and Hive Gateway (with and without its Rust planner),
in one run (`make bench`):

    .venv/bin/python -m bench.compare [--quick] [--gateways rugzak,hive] [--scenarios federation]
                                      [--modes distinct] [--connections 64] [--out DIR]

Two scenarios: `federation`, the public federation benchmark's deep query over subgraphs of its
shape (bench.federation), and `profile`, Ann's whole profile (examples/profile.graphql) over the
three reference subgraphs. In both the subgraphs answer from a memo (bench.subgraph_server), so
they cost almost nothing. Each gateway runs as one process pinned to core 0 (`taskset -c 0`); wrk,
the subgraphs and this harness share core 1. Every gateway's answer is checked once (federation:
against the answer built straight from the data; profile: against the first gateway's, which
must have no errors), then it is warmed up, then loaded by wrk at a fixed concurrency in rounds
interleaved A B C D A B C D, first with a distinct Authorization header per request (no gateway
can merge requests), then with identical requests; wrk's script checks every response. Prints one
table per scenario and mode, and writes DIR/bench.json and DIR/bench.png (DIR: bench/results).
`--quick` is a smoke run: one round of 3 s. Every server it starts is stopped at the end, also on
Ctrl-C or a failure. Exits 1 when a gateway failed its check or a response under load was wrong.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import report
from bench.federation import QUERY
from bench.federation.resolvers import expected_answer
from bench.gateways import GATEWAYS, Setup
from bench.measure import Check, check_answer, measure_round
from bench.stacks import federation_stack, profile_stack
from bench.tokens import TokenPool
from bench.wrk import Load, wrk_binary
from tests.servers import ROOT, Server

RESULTS = ROOT / "bench" / "results"
Env = dict[str, str]
SCENARIOS = ("federation", "profile")
PROFILE_QUERY = (ROOT / "examples" / "profile.graphql").read_text(encoding="utf-8")
CITIZEN_CLAIMS = {"rrn": "85671012385", "acr": "substantial"}  # Ann, as in the demo


@dataclass(frozen=True)
class Settings:
    connections: int
    rounds: int
    seconds: float
    warmup_seconds: float
    modes: tuple[str, ...]
    gateway_cpu: str
    load_cpu: str
    tokens: int


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    body: bytes
    expected: dict[str, Any] | None  # None: the first gateway's answer, if it has no errors
    supergraph: Path
    subgraph_requests: Callable[[], int] | None
    tokens_file: Path


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the `finally`s stop every server on SIGTERM too


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def _versions() -> dict[str, str]:
    import json

    versions = {}
    for package in (
        "@apollo/gateway",
        "@apollo/server",
        "@graphql-hive/gateway",
        "@graphql-hive/router-runtime",
    ):
        path = ROOT / "node_modules" / package / "package.json"
        if path.exists():
            versions[package] = json.loads(path.read_text())["version"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        check=False,
    ).stdout.strip()
    versions["rugzak"] = commit or "unknown"
    node = subprocess.run(["node", "--version"], text=True, capture_output=True, check=False)
    versions["node"] = node.stdout.strip()
    return versions


def run_scenario(
    scenario: Scenario,
    names: Sequence[str],
    settings: Settings,
    workdir: Path,
    auth: dict[str, str],
) -> dict[str, Any]:
    setup = Setup(scenario.supergraph, workdir, settings.gateway_cpu, auth)
    tokens_file = scenario.tokens_file
    expected = scenario.expected
    body_file = workdir / f"{scenario.name}.body.json"
    body_file.write_bytes(scenario.body)
    token = tokens_file.read_text().split("\n", 1)[0]
    load = Load(body_file, tokens_file, settings.connections, settings.seconds, settings.load_cpu)
    warmup = Load(
        body_file, tokens_file, settings.connections, settings.warmup_seconds, settings.load_cpu
    )
    servers: dict[str, Server] = {}
    checks: dict[str, Check] = {}
    failures: dict[str, str] = {}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {m: {} for m in settings.modes}
    with ExitStack() as stack:
        for name in names:
            print(f"[{scenario.name}] starting {name}", flush=True)
            try:
                servers[name] = stack.enter_context(GATEWAYS[name].start(setup))
            except RuntimeError as exc:
                failures[name] = f"did not start: {str(exc).splitlines()[0]}"
                continue
            checks[name], answer = check_answer(
                servers[name], scenario.body, token, expected, scenario.subgraph_requests
            )
            if checks[name].ok and expected is None:
                expected = answer  # the others must give the same answer
            if not checks[name].ok:
                failures[name] = f"wrong answer: {checks[name].problem}"
                servers.pop(name).stop()
        for name, server in servers.items():
            print(f"[{scenario.name}] warming up {name}", flush=True)
            measure_round(server, warmup, "distinct", checks[name].length, None)
        for mode in settings.modes:
            for number in range(settings.rounds):
                for name, server in servers.items():
                    print(f"[{scenario.name}] {mode} round {number + 1}: {name}", flush=True)
                    result = measure_round(
                        server, load, mode, checks[name].length, scenario.subgraph_requests
                    )
                    rounds[mode].setdefault(name, []).append(result)
    modes = {
        mode: {name: {"summary": report.summarize(r), "rounds": r} for name, r in by_name.items()}
        for mode, by_name in rounds.items()
    }
    return {
        "title": scenario.title,
        "answer_bytes": len(orjson.dumps(expected)),
        "checks": {name: asdict(check) for name, check in checks.items()},
        "failures": failures,
        "modes": modes,
    }


def federation_scenario(stack: ExitStack, workdir: Path, cpu: str, tokens: Path) -> Scenario:
    subgraphs = stack.enter_context(federation_stack(workdir, cpu))
    return Scenario(
        "federation",
        "the federation benchmark's deep query (accounts, products, reviews, inventory)",
        orjson.dumps({"query": QUERY, "operationName": "TestQuery"}),
        expected_answer(),
        subgraphs.supergraph,
        subgraphs.subgraph_requests,
        tokens,
    )


def profile_scenario(
    stack: ExitStack, workdir: Path, cpu: str, pool: TokenPool, auth: Env, count: int
) -> Scenario:
    subgraphs = stack.enter_context(profile_stack(workdir, cpu, auth))
    # every caller is Ann, signed in at level substantial, each with a token of her own
    tokens = pool.write_tokens(workdir / "citizen-tokens.txt", count, CITIZEN_CLAIMS)
    return Scenario(
        "profile",
        "Ann's whole citizen profile (education, allowances, ticketing)",
        orjson.dumps({"query": PROFILE_QUERY, "operationName": "Profile"}),
        None,
        subgraphs.supergraph,
        subgraphs.subgraph_requests,
        tokens,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round of 3 s (a smoke run)")
    parser.add_argument("--gateways", default=",".join(GATEWAYS), help="comma-separated")
    parser.add_argument("--modes", default="distinct,identical")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--rounds", type=int, help="per gateway and mode (3; --quick: 1)")
    parser.add_argument("--seconds", type=float, help="of each round (10; --quick: 3)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n for n in args.gateways.split(",") if n]
    scenarios = [n for n in args.scenarios.split(",") if n]
    if set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios {sorted(set(scenarios) - set(SCENARIOS))}")
    unknown = sorted(set(names) - set(GATEWAYS))
    if unknown:
        parser.error(f"unknown gateways {unknown}; choose from {sorted(GATEWAYS)}")
    settings = Settings(
        connections=args.connections,
        rounds=args.rounds or (1 if args.quick else 3),
        seconds=args.seconds or (3.0 if args.quick else 10.0),
        warmup_seconds=1.0 if args.quick else 5.0,
        modes=tuple(m for m in args.modes.split(",") if m),
        gateway_cpu="0",
        load_cpu="1",
        tokens=512 if args.quick else 2048,
    )
    wrk_binary()
    os.sched_setaffinity(0, {int(settings.load_cpu)})  # this harness shares the load core
    signal.signal(signal.SIGTERM, _interrupt)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    results: dict[str, Any] = {
        "started": started,
        "loadavg_start": _loadavg(),  # whether others were using the machine during the run
        "settings": asdict(settings),
        "versions": _versions(),
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="rugzak-bench-") as tmp:
        workdir = Path(tmp)
        pool = TokenPool()
        auth = pool.env(pool.write_jwks(workdir / "jwks.json"))
        for scenario_name in scenarios:
            with ExitStack() as stack:
                print(f"[{scenario_name}] starting the subgraphs", flush=True)
                if scenario_name == "federation":
                    tokens = pool.write_tokens(workdir / "tokens.txt", settings.tokens)
                    scenario = federation_scenario(stack, workdir, settings.load_cpu, tokens)
                else:
                    scenario = profile_scenario(
                        stack, workdir, settings.load_cpu, pool, auth, settings.tokens
                    )
                results["scenarios"][scenario.name] = run_scenario(
                    scenario, names, settings, workdir, auth
                )
    results["loadavg_end"] = _loadavg()
    results["targets"] = report.targets(results)
    report.write_json(args.out / "bench.json", results)
    report.write_chart(args.out / "bench.png", results)
    for name, data in results["scenarios"].items():
        for mode, by_gateway in data["modes"].items():
            title = (
                f"\n{name}: {data['title']} ({data['answer_bytes'] / 1000:.1f} KB answer), "
                f"{mode} requests, {settings.connections} connections, "
                f"{settings.rounds} x {settings.seconds:g} s rounds"
            )
            summaries = {n: g["summary"] for n, g in by_gateway.items()}
            print(report.table(title, summaries, data["failures"]))
    print(report.targets_text(results["targets"]))
    print(f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.png'}")
    bad = any(
        s["summary"]["bad"]
        for d in results["scenarios"].values()
        for g in d["modes"].values()
        for s in g.values()
    )
    failed = any(d["failures"] for d in results["scenarios"].values())
    return 1 if bad or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
