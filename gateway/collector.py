"""When the cyclic garbage collector runs: small passes at chosen moments instead of a full pass
whenever Python's thresholds say so.

A full collection walks every object the process holds and stops everything meanwhile: with
the caches of documents, operations and plans full, that is hundreds of thousands of objects
and stalls of 100 ms to a second (measured under unseen hostile operations: one citizen's
profile query, 3 ms at p99 alone, waited through them). Validation by graphql-core leaves
thousands of objects in cycles per unseen operation, and the working set of a long
validation is old enough by the time it dies to need a full pass.

So, from the start of serving:

- what exists is frozen (`gc.freeze`): the supergraph, the schemas, the modules;
- Python's own full passes are off (the oldest generation's threshold is out of reach); its
  young passes stay as they are;
- every `interval` seconds a pass collects what is not frozen (what survived the young passes
  since the last one: a second's worth), then freezes the survivors, the cached entries among
  them; entries evicted later are freed by their reference counts (gateway/operation_cache.py
  keeps them free of cycles), so frozen garbage only comes from cycles that were still alive
  at a pass (requests in flight);
- a full pass (unfreeze, collect, freeze) every `full` seconds bounds that (measured under
  unseen hostile operations: some 1,000 objects a second; a rule on the frozen objects' growth,
  as Python's own for its oldest generation, ran full passes of up to 0.6 s while the caches
  filled, each freeing little);
- each pass waits for a moment without requests in flight (at most a second), new
  anonymous requests held back meanwhile (gateway/limits/priority.py), and none runs while a
  supergraph loads (gateway/schema/swapping.py freezes what a load built).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PrometheusCollector

from gateway.settings_text import Number, read_numbers

log = logging.getLogger("rugzak.app")

# taken by every pass and by a supergraph load's freeze (gateway/schema/swapping.py)
LOCK = threading.Lock()
# Python's full passes: beyond any count of young passes
_NEVER = 1 << 30
# the longest a pass waits for a moment without requests with a token in flight (seconds)
QUIET_WAIT = 1.0


_NUMBERS = {
    name: Number(name, float, 0, above=True, wants="seconds") for name in ("interval", "full")
}


@dataclass(frozen=True, slots=True)
class CollectorSettings:
    enabled: bool = True  # False: Python's own thresholds (`auto`)
    interval: float = 1.0
    full: float = 600.0

    @classmethod
    def parse(cls, text: str) -> CollectorSettings:
        """`auto`, or `interval=SECONDS,full=SECONDS` (either may be left out)."""
        text = text.strip().lower()
        if text in ("auto", "off"):
            return cls(enabled=False)
        usage = "the collector is auto, or interval=SECONDS,full=SECONDS"
        settings = dataclasses.replace(cls(), **read_numbers(text, _NUMBERS, usage))
        if settings.full < settings.interval:
            raise ValueError("full= cannot be shorter than interval=")
        return settings

    def __str__(self) -> str:
        if not self.enabled:
            return "auto"
        return f"interval={self.interval:g},full={self.full:g}"


@dataclass(slots=True)
class Passes:
    """What the collector did, for the metrics."""

    young: int = 0
    full: int = 0
    seconds: float = 0.0  # spent in passes, in all
    longest: float = 0.0  # the longest pass
    collected: int = 0  # objects found unreachable by the small passes
    collected_full: int = 0  # by the full passes


class Collector:
    def __init__(
        self,
        settings: CollectorSettings,
        quiet_moment: Callable[[float], AbstractAsyncContextManager[None]] | None = None,
        loading: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.passes = Passes()
        self._quiet_moment = quiet_moment
        self._loading = loading
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._thresholds: tuple[int, int, int] | None = None
        self._last_full = 0.0

    def start(self) -> None:
        if not self.settings.enabled or self._task is not None:
            return
        self._stopping = False
        self._thresholds = gc.get_threshold()
        young, middle, _ = self._thresholds
        with LOCK:
            gc.collect()
            gc.freeze()
            gc.set_threshold(young, middle, _NEVER)
        self._last_full = time.monotonic()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping = True  # seen by the loop even where a cancellation is lost
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.settings.interval)
            if self._quiet_moment is None:
                self.collect()
                continue
            async with self._quiet_moment(QUIET_WAIT):
                if not self._stopping:
                    self.collect()

    def collect(self, full: bool | None = None) -> bool:
        """One pass, full when due (or as `full` says); False when a supergraph load is under
        way (none ran)."""
        if self._loading() or not LOCK.acquire(blocking=False):
            return False
        try:
            started = time.perf_counter()
            if full is None:
                full = time.monotonic() - self._last_full >= self.settings.full
            if full:
                gc.unfreeze()
            found = gc.collect()
            gc.freeze()
            took = time.perf_counter() - started
        finally:
            LOCK.release()
        passes = self.passes
        passes.seconds += took
        passes.longest = max(passes.longest, took)
        if full:
            passes.full += 1
            passes.collected_full += found
            self._last_full = time.monotonic()
            log.info(
                "full garbage collection: %d objects freed in %.0f ms, %d kept",
                found,
                took * 1000,
                gc.get_freeze_count(),
            )
        else:
            passes.young += 1
            passes.collected += found
        return True


class CollectorMetrics(PrometheusCollector):
    """The passes' counters, read at each scrape."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        passes = self.collector.passes
        count = CounterMetricFamily(
            "rugzak_gc_passes", "The garbage collector's passes, young or full", labels=["kind"]
        )
        count.add_metric(["young"], passes.young)
        count.add_metric(["full"], passes.full)
        yield count
        freed = CounterMetricFamily(
            "rugzak_gc_collected_objects",
            "Objects the collector's passes found unreachable and freed",
            labels=["kind"],
        )
        freed.add_metric(["young"], passes.collected)
        freed.add_metric(["full"], passes.collected_full)
        yield freed
        yield CounterMetricFamily(
            "rugzak_gc_pass_seconds", "Seconds spent in the collector's passes", passes.seconds
        )
        yield GaugeMetricFamily(
            "rugzak_gc_longest_pass_seconds",
            "The longest of the collector's passes",
            passes.longest,
        )
        yield GaugeMetricFamily(
            "rugzak_gc_frozen_objects",
            "Objects frozen out of the collector's passes",
            gc.get_freeze_count(),
        )
