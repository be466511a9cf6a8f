"""A cap on the requests in flight to one subgraph, with a bounded queue in front of it.

Without it, a subgraph that slows down collects every request the gateway receives: thousands
of open connections and waiting coroutines, memory growing, and the subgraph buried deeper.
With it, at most `limit` requests are out; up to `queue` more wait for a place (never longer
than their own deadline); past that, a request fails at once (SUBREQUEST_OVERLOADED).

(A counter and a queue of futures rather than asyncio.Semaphore: its `locked()` scans its
waiters, and this runs on every subgraph call.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class QueueFull(Exception):
    pass


class InFlightLimit:
    def __init__(self, limit: int, queue: int) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("in-flight limit must be at least 1 and the queue at least 0")
        self.limit = limit
        self.queue = queue
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, timeout: float) -> None:
        """Takes a place, waiting at most `timeout` seconds (TimeoutError) in a queue of at
        most `queue` (QueueFull when it is full)."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        if len(self._waiters) >= self.queue:
            raise QueueFull
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter  # `release` hands its place over: in_flight already counts it
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place just as the wait ended: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place goes straight to the next in line
                return
        self.in_flight -= 1
