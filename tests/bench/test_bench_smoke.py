"""The side-by-side benchmark (bench/compare.py) in its quickest mode, with Rugzak and Hive
Gateway (Rust planner) only: it starts, checks both answers, loads both in both modes, and writes
its table, JSON and chart. About 40 s; it measures nothing worth reading."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT


def test_quick_run_measures_rugzak_and_hive(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: run `make test` (it installs it) or .ci/run")
    argv = [sys.executable, "-m", "bench.compare", "--quick", "--gateways", "rugzak,hive-router",
            "--scenarios", "federation", "--connections", "4", "--seconds", "2",
            "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    results = json.loads((tmp_path / "bench.json").read_text())
    federation = results["scenarios"]["federation"]
    assert federation["failures"] == {}
    assert 80_000 < federation["answer_bytes"] < 90_000
    for name in ("rugzak", "hive-router"):
        assert federation["checks"][name]["ok"]
        for mode in ("distinct", "identical"):
            summary = federation["modes"][mode][name]["summary"]
            assert summary["requests"] > 0 and summary["bad"] == 0
            assert summary["peak_rss_mb"] > 10
            assert summary["subgraph_requests_per_query"] > 0
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    assert "÷rugzak" in proc.stdout and "hive-router" in proc.stdout
