"""What a supergraph swap does besides the assignment, kept off the serving event loop.

- Loading: `load_supergraph` of a large supergraph takes seconds of CPU (about 10 s for one
  composed from a 900 KB subgraph on this kind of machine). It runs in a thread; while it does,
  the interpreter hands the GIL over every 0.5 ms instead of every 5 ms, so the event loop gets
  it back at once when a request arrives instead of waiting out the loader's slice each time.
- Warm-up: after the swap, the operations answered most recently are planned for the new
  supergraph in a background task, bounded in count and in time; the swap never waits for it,
  and a newer swap cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading

from gateway.request import RequestHandler
from gateway.supergraph import Supergraph, load_supergraph

log = logging.getLogger("rugzak.app")

LOADING_SWITCH_INTERVAL = 0.0005  # seconds: how soon the event loop gets the GIL back

_loading = 0
_lock = threading.Lock()
_switch_interval = sys.getswitchinterval()


async def load_off_the_loop(sdl: str) -> Supergraph:
    return await asyncio.to_thread(_load, sdl)


def _load(sdl: str) -> Supergraph:
    global _loading, _switch_interval
    with _lock:
        if _loading == 0:
            _switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_interval, LOADING_SWITCH_INTERVAL))
        _loading += 1
    try:
        return load_supergraph(sdl)
    finally:
        with _lock:
            _loading -= 1
            if _loading == 0:
                sys.setswitchinterval(_switch_interval)


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
