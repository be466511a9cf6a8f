"""What a supergraph swap does besides the assignment, kept off the serving event loop.

- Loading: `load_supergraph` of a large supergraph takes seconds (one composed from a 900 KB
  subgraph: some 1.25 million objects). It runs in a thread, and two things keep it from
  holding the event loop meanwhile:
  - the cyclic garbage collector is paused while it runs, and what it built is frozen
    (`gc.freeze`) before the collector resumes. Otherwise every full collection during the load
    walks the whole growing heap while holding the GIL: measured, 80% of the load's CPU time
    (9.7 s instead of 1.7 s) in stalls of up to 10 s; and later the young generation's first
    collection would walk all of it at once;
  - the interpreter hands the GIL over every 0.5 ms instead of every 5 ms (from the first load
    on, like admission's validation thread, gateway/limits/admission.py: never raised again), so
    the event loop gets it back at once when a request arrives instead of waiting out the
    loader's slice.
- Reclaiming: a supergraph swapped out is garbage among the frozen objects; a collection that
  reclaims it must walk every object (unfreeze, collect, freeze again), holding the GIL: about
  1.2 s with the largest supergraph the registry admits on this kind of machine, 7 ms with the
  reference one. So it runs once the supergraphs swapped out since the last one add up to the
  size of the one serving: memory stays within about twice what serving needs, and a small
  change swapped out of a large supergraph costs no stall.
- Warm-up: after the swap, the operations answered most recently are planned for the new
  supergraph in a background task, bounded in count and in time; the swap never waits for it,
  and a newer swap cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import Iterator

from gateway.collector import LOCK
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import Supergraph, load_supergraph

log = logging.getLogger("rugzak.app")

LOADING_SWITCH_INTERVAL = 0.0005  # seconds: how soon the event loop gets the GIL back

_loading = 0
_lock = LOCK  # shared with the collector's passes (gateway/collector.py)
_collector_was_enabled = True


def loading() -> bool:
    """Whether a supergraph is being loaded (the collector waits for the load's freeze)."""
    return _loading > 0


async def load_off_the_loop(sdl: str) -> Supergraph:
    return await asyncio.to_thread(_load, sdl)


def _load(sdl: str) -> Supergraph:
    with _loading_mode():
        return load_supergraph(sdl)


@contextlib.contextmanager
def _loading_mode() -> Iterator[None]:
    """While any load runs: no automatic collection; when the last one ends, what was built is
    frozen and the collector comes back."""
    global _loading, _collector_was_enabled
    with _lock:
        if _loading == 0:
            _collector_was_enabled = gc.isenabled()
            sys.setswitchinterval(min(sys.getswitchinterval(), LOADING_SWITCH_INTERVAL))
            gc.disable()
        _loading += 1
    try:
        yield
    finally:
        with _lock:
            _loading -= 1
            if _loading == 0:
                gc.freeze()
                if _collector_was_enabled:
                    gc.enable()


_swapped_out = 0  # SDL characters of the supergraphs swapped out since the last reclaim


async def reclaim_off_the_loop(swapped_out: str, serving: str) -> float | None:
    """After `swapped_out` was replaced by `serving`: collect what the swaps left, when due (see
    above); the seconds it took, or None when it was not due."""
    global _swapped_out
    _swapped_out += len(swapped_out)
    if _swapped_out < len(serving):
        return None
    _swapped_out = 0
    return await asyncio.to_thread(_reclaim)


def _reclaim() -> float:
    started = time.perf_counter()
    with _lock:
        if _loading:  # a newer load is under way: reclaimed after that one
            return 0.0
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    return time.perf_counter() - started


class WarmUp:
    """The background warm-up of the handler serving now (at most one at a time)."""

    def __init__(self) -> None:
        self.task: asyncio.Task[int] | None = None

    def start(self, handler: RequestHandler, limit: int, seconds: float) -> None:
        self.cancel()
        if limit > 0 and seconds > 0:
            self.task = asyncio.ensure_future(self._run(handler, limit, seconds))

    async def _run(self, handler: RequestHandler, limit: int, seconds: float) -> int:
        try:
            warmed = await handler.warm(limit, seconds)
        except Exception:  # a warm-up is an optimisation: never let it take anything down
            log.exception("warm-up of supergraph %s failed", handler.schema_hash[:12])
            return 0
        log.warning("supergraph %s: %d operations planned ahead", handler.schema_hash[:12], warmed)
        return warmed

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def stop(self) -> None:
        self.cancel()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
