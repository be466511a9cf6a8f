"""Counts of good and bad events over the last few seconds, in a ring of time buckets: constant
memory and constant work per event, whatever the traffic."""

from __future__ import annotations


class RollingCounts:
    def __init__(self, seconds: float, buckets: int = 10) -> None:
        if seconds <= 0 or buckets < 1:
            raise ValueError("a rolling window needs a positive length and at least one bucket")
        self.width = seconds / buckets
        self._n = buckets
        self._ticks = [-1] * buckets  # which tick each bucket counts; -1: none yet
        self._good = [0] * buckets
        self._bad = [0] * buckets

    def add(self, now: float, bad: bool) -> None:
        tick = int(now / self.width)
        i = tick % self._n
        if self._ticks[i] != tick:  # the bucket counted an older tick: start it again
            self._ticks[i] = tick
            self._good[i] = self._bad[i] = 0
        if bad:
            self._bad[i] += 1
        else:
            self._good[i] += 1

    def totals(self, now: float) -> tuple[int, int]:
        """(good, bad) over the window that ends `now`."""
        oldest = int(now / self.width) - self._n
        good = bad = 0
        for i in range(self._n):
            if self._ticks[i] > oldest:
                good += self._good[i]
                bad += self._bad[i]
        return good, bad

    def clear(self) -> None:
        self._ticks = [-1] * self._n
