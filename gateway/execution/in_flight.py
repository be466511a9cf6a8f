"""A cap on the requests in flight to one subgraph, with a bounded queue in front of it.

Without it, a subgraph that slows down collects every request the gateway receives: thousands
of open connections and waiting coroutines, memory growing, and the subgraph buried deeper.
With it, at most `limit` requests are out; up to `queue` more wait for a place (never longer
than their own deadline); past that, a request fails at once (SUBREQUEST_OVERLOADED)."""

from __future__ import annotations

import asyncio


class QueueFull(Exception):
    pass


class InFlightLimit:
    def __init__(self, limit: int, queue: int) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("in-flight limit must be at least 1 and the queue at least 0")
        self.limit = limit
        self.queue = queue
        self._slots = asyncio.Semaphore(limit)
        self.waiting = 0
        self.in_flight = 0

    async def acquire(self, timeout: float) -> None:
        """Takes a place, waiting at most `timeout` seconds (TimeoutError) in a queue of at
        most `queue` (QueueFull when it is full)."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free place: no wait
            self.in_flight += 1
            return
        if self.waiting >= self.queue:
            raise QueueFull
        self.waiting += 1
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._slots.release()
