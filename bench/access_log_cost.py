"""What the access log costs on Ann's whole citizen profile, in one run: the same gateway with the
log on (SQLite, the default) and off, under the same load.

    .venv/bin/python -m bench.access_log_cost [--rounds 4] [--seconds 10] [--connections 64]

As `make bench`'s profile scenario: the reference subgraphs behind the memo, each gateway one
process pinned to core 0, wrk and the subgraphs on core 1, a distinct token per request, rounds
interleaved on, off, on, off so that drift hits both alike. Every profile read is logged (one
entry per request: Ann is its one data subject); the run checks that the log holds them. Prints
requests/s and gateway CPU ms per request, medians of the rounds, and the difference.
Not a test: numbers depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

from bench.compare import CITIZEN_CLAIMS, PROFILE_QUERY
from bench.gateways import RUGZAK_PLAIN
from bench.launch import listening_socket, pinned, start_server
from bench.measure import check_answer, measure_round
from bench.report import ERROR_FIELDS
from bench.stacks import profile_stack
from bench.tokens import TokenPool
from bench.wrk import Load, wrk_binary
from tests.servers import Server

GATEWAY_CPU, LOAD_CPU = "0", "1"


def start_gateway(name: str, supergraph: Path, workdir: Path, env: dict[str, str],
                  access_log: str) -> Server:  # fmt: skip
    sock = listening_socket()
    port, fd = sock.getsockname()[1], sock.fileno()
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph),
            "--fd", str(fd), "--access-log", access_log,
            "--access-log-spool", str(workdir / f"{name}-spool")]  # fmt: skip
    try:
        return start_server(
            name,
            pinned(argv, GATEWAY_CPU),
            f"http://127.0.0.1:{port}",
            workdir / f"{name}.log",
            env={**env, **RUGZAK_PLAIN, "RUGZAK_DATA_DIR": str(workdir / f"{name}-data")},
            pass_fds=[fd],
            probe="/health",
        )
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.access_log_cost", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="per setting (default 4)")
    parser.add_argument("--seconds", type=float, default=10.0, help="of each round (default 10)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=2048)
    args = parser.parse_args(argv)
    wrk_binary()
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    with tempfile.TemporaryDirectory(prefix="rugzak-access-log-cost-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        pool = TokenPool()
        auth = pool.env(pool.write_jwks(workdir / "jwks.json"))
        subgraphs = stack.enter_context(profile_stack(workdir, LOAD_CPU, auth))
        tokens = pool.write_tokens(workdir / "tokens.txt", args.tokens, CITIZEN_CLAIMS)
        token = tokens.read_text().split("\n", 1)[0]
        body = orjson.dumps({"query": PROFILE_QUERY, "operationName": "Profile"})
        body_file = workdir / "profile.body.json"
        body_file.write_bytes(body)
        audit = workdir / "audit.sqlite3"
        servers = {
            "log on": start_gateway("on", subgraphs.supergraph, workdir, auth, f"sqlite:{audit}"),
            "log off": start_gateway("off", subgraphs.supergraph, workdir, auth, "off"),
        }
        for server in servers.values():
            stack.callback(server.stop)
        lengths = {}
        for name, server in servers.items():
            check, _ = check_answer(server, body, token, None, None)
            if not check.ok:
                print(f"{name}: wrong answer: {check.problem}", file=sys.stderr)
                return 1
            lengths[name] = check.length
        load = Load(body_file, tokens, args.connections, args.seconds, LOAD_CPU)
        warmup = Load(body_file, tokens, args.connections, 3.0, LOAD_CPU)
        for name, server in servers.items():
            measure_round(server, warmup, "distinct", lengths[name], None)
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
        for number in range(args.rounds):
            for name, server in servers.items():
                result = measure_round(server, load, "distinct", lengths[name], None)
                results[name].append(result)
                print(
                    f"round {number + 1} {name:<8} {result['rps']:7.1f} req/s "
                    f"{result['cpu_ms_per_request']:6.2f} CPU ms/request",
                    flush=True,
                )
        bad = sum(int(r[k]) for rounds in results.values() for r in rounds for k in ERROR_FIELDS)
        with sqlite3.connect(audit) as db:
            (entries,) = db.execute("SELECT COUNT(*) FROM access_log").fetchone()
    rps = {name: statistics.median(r["rps"] for r in rounds) for name, rounds in results.items()}
    cpu = {
        name: statistics.median(r["cpu_ms_per_request"] for r in rounds)
        for name, rounds in results.items()
    }
    # each round of one next to the same round of the other: a machine that others share slows
    # both alike, so the median of the pairs' ratios is steadier than the ratio of the medians
    pairs = list(zip(results["log on"], results["log off"], strict=True))
    rps_ratio = statistics.median(on["rps"] / off["rps"] for on, off in pairs)
    cpu_ratio = statistics.median(
        on["cpu_ms_per_request"] / off["cpu_ms_per_request"] for on, off in pairs
    )
    print(f"\nAnn's profile, {args.connections} connections, {args.rounds} x {args.seconds:g} s")
    for name in servers:
        print(f"  {name:<8} {rps[name]:7.1f} req/s   {cpu[name]:6.2f} CPU ms/request (medians)")
    print(
        f"  with the log, round by round (median): {(1 - rps_ratio) * 100:+.1f}% fewer "
        f"requests/s, {(cpu_ratio - 1) * 100:+.1f}% CPU per request"
    )
    print(f"  entries logged: {entries} (wrong responses under load: {bad})")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
