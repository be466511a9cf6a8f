"""`rugzak serve --workers N`: N processes over one listening socket, a dead worker replaced,
all of them stopped with the parent; against the reference subgraphs over loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, reference_stack


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return set()
    return {int(p) for p in text.split()}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(condition, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_workers_share_the_socket_are_replaced_and_stop_together(tmp_path: Path) -> None:
    with reference_stack(tmp_path, "--workers", "2") as stack:
        parent = stack.gateway.proc.pid
        assert _wait(lambda: len(_children(parent)) == 2)
        workers = _children(parent)

        def ask(_: int) -> tuple[int, object]:
            response = stack.query(PROFILE_QUERY, insz=ANN)
            return response.status_code, response.json().get("data")

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(40)))
        assert {status for status, _ in answers} == {200}
        first = answers[0][1]
        assert first is not None and all(data == first for _, data in answers)

        # a worker that dies is replaced; the gateway keeps answering meanwhile
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert ask(0) == (200, first)
        assert _wait(lambda: len(_children(parent)) == 2 and victim not in _children(parent))
        assert ask(0) == (200, first)

        # SIGTERM to the parent alone stops every worker, then the parent
        workers = _children(parent)
        os.kill(parent, signal.SIGTERM)
        stack.gateway.proc.wait(timeout=20)
        assert _wait(lambda: not any(_alive(pid) for pid in workers))


def test_a_worker_count_that_is_not_positive_is_refused() -> None:
    for value in ("0", "-2", "many"):
        result = subprocess.run(
            [sys.executable, "-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH),
             "--workers", value],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0
        assert "--workers wants a positive whole number" in result.stderr
        assert "Traceback" not in result.stderr
