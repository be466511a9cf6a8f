"""Steady load on a gateway from a background thread: `concurrency` clients, each sending its
next request as soon as it has the answer to the last one, every answer kept as a `Sample`.

aiohttp on its own event loop (cheaper per request than httpx, so the load costs the shared
machine little). Nothing here judges the answers: the tests do, from the samples."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson


@dataclass(frozen=True, slots=True)
class Sample:
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: no HTTP answer at all (connection failed, no answer in 60 s)
    body: Any  # the JSON answer, or None
    error: str | None = None  # why there was no HTTP answer (the client's exception)

    @property
    def lost(self) -> bool:
        """No HTTP answer, for a reason other than the keep-alive race: the server closing an
        idle connection just as the client reuses it (aiohttp does not send again)."""
        return self.status == 0 and self.error != "ServerDisconnectedError"

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    @property
    def codes(self) -> frozenset[str]:
        if not isinstance(self.body, dict):
            return frozenset()
        return frozenset(
            str((e.get("extensions") or {}).get("code")) for e in self.body.get("errors") or ()
        )


class Load:
    def __init__(
        self,
        url: str,
        body: Callable[[int], bytes],
        headers: Sequence[Mapping[str, str]],
        concurrency: int = 8,
        rate: float | None = 100.0,
    ) -> None:
        """`body(n)`: the JSON body of the n-th request (the same one, or a different one each
        time for a soak of distinct operations). `headers`: client i sends `headers[i % len]`
        (distinct callers: the gateway merges identical requests of one caller in flight).
        `rate`: requests per second in all, at most (None: as fast as answers come). A steady
        rate rather than a saturating one, so that latencies show the gateway, not a queue."""
        self.url = url
        self.body = body
        self.headers = [{"content-type": "application/json", **h} for h in headers]
        self.concurrency = concurrency
        self.interval = concurrency / rate if rate else 0.0  # per client
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent = 0

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=90)
            self._thread = None

    def since(self, moment: float) -> list[Sample]:
        """The answers to the requests sent from `moment` (time.monotonic()) on."""
        with self._lock:
            return [s for s in self.samples if s.started >= moment]

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            clients = (self._client(session, i) for i in range(self.concurrency))
            await asyncio.gather(*clients)

    async def _client(self, session: aiohttp.ClientSession, i: int) -> None:
        headers = self.headers[i % len(self.headers)]
        await asyncio.sleep(self.interval * i / self.concurrency)  # spread the clients out
        while not self._stop.is_set():
            n = self._sent
            self._sent += 1
            started = time.monotonic()
            status, body, error = 0, None, None
            try:
                async with session.post(self.url, data=self.body(n), headers=headers) as r:
                    status = r.status
                    raw = await r.read()
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    body = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = exc.__class__.__name__
                await asyncio.sleep(0.05)  # no answer: do not spin
            sample = Sample(started, time.monotonic() - started, status, body, error)
            with self._lock:
                self.samples.append(sample)
            pause = started + self.interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


@dataclass
class RssSampler:
    """The gateway's RSS, read every `every` seconds in a background thread."""

    pid: int
    every: float = 0.5
    values: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, MB)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.values.append((time.monotonic(), rss_mb(self.pid)))
            except OSError:
                return
            self._stop.wait(self.every)

    @property
    def peak(self) -> float:
        return max((mb for _, mb in self.values), default=math.nan)


def summary(samples: list[Sample], rss: RssSampler | None = None) -> dict[str, Any]:
    """requests sent, answered (HTTP 200), failed (5xx), without an answer, and latencies."""
    latencies = [s.seconds * 1000 for s in samples]
    return {
        "sent": len(samples),
        "answered": sum(1 for s in samples if s.status == 200),
        "failed_5xx": sum(1 for s in samples if s.status >= 500),
        "no_answer": sum(1 for s in samples if s.status == 0),
        "no_answer_why": sorted({s.error for s in samples if s.error}),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=math.nan), 1),
        "rss_mb": round(rss.peak, 1) if rss is not None else None,
    }
