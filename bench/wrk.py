"""One round of load: wrk (Debian's package) with bench/load.lua, pinned to the load core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.launch import pinned

SCRIPT = Path(__file__).resolve().parent / "load.lua"


@dataclass(frozen=True)
class Load:
    body_file: Path
    tokens_file: Path
    connections: int
    seconds: float
    cpu: str
    threads: int = 1


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (Debian package wrk)")
    return found


def run_round(load: Load, url: str, mode: str, expect_length: int) -> dict[str, float]:
    """wrk's result for one round against `url` (requests, latency percentiles in µs, errors)."""
    argv = [
        wrk_binary(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds:g}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(SCRIPT),
        url,
    ]
    env = {
        **os.environ,
        "BENCH_BODY_FILE": str(load.body_file),
        "BENCH_TOKENS_FILE": str(load.tokens_file),
        "BENCH_MODE": mode,
        "BENCH_EXPECT_LENGTH": str(expect_length),
        "BENCH_THREADS": str(load.threads),
    }
    proc = subprocess.run(
        pinned(argv, load.cpu),
        env=env,
        capture_output=True,
        text=True,
        timeout=load.seconds + 120,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"wrk gave no result (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
