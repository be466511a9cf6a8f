"""What a gateway's process tree uses, read from /proc: resident memory (summed over the process
group, polled in a thread to find its peak) and CPU time (user + system)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # state ppid pgrp ...
            pids.append(int(entry.name))
    return pids


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime stime
    return total / TICKS


class PeakRss:
    """Polls the RSS of process group `pgid` every `interval` seconds while in a `with` block."""

    def __init__(self, pgid: int, interval: float = 0.05) -> None:
        self.pgid = pgid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        pids = group_pids(self.pgid)
        ticks = 0
        while not self._stop.is_set():
            ticks += 1
            if ticks % 20 == 0:  # a process may have started (a worker); look again
                pids = group_pids(self.pgid)
            self.peak = max(self.peak, rss_bytes(pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_idle(pgid: int, quiet: float = 0.3, timeout: float = 60.0) -> None:
    """Wait until process group `pgid` has used (almost) no CPU for `quiet` seconds: after a round,
    a gateway still answers the requests that were in flight when the load stopped, and that must
    not take the core from the next gateway's round."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(group_pids(pgid))
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(group_pids(pgid))
        if now - last < quiet * 0.05:
            return
        last = now
