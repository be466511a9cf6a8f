"""Retries of failed subgraph queries: a budget, so that retries can never multiply the load on a
subgraph that is struggling, and a jittered backoff, so that the retries of many requests that
failed together do not arrive together.

The budget allows retries of at most `ratio` of the requests over the last `window` seconds,
plus `minimum` per window, so that a quiet gateway can still retry its few requests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from gateway.execution.window import RollingCounts


class RetryBudget:
    def __init__(
        self,
        ratio: float = 0.1,
        window: float = 10.0,
        minimum: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self._clock = clock
        # good: first attempts; bad: retries
        self._counts = RollingCounts(window)

    def request(self) -> None:
        """A first attempt went out."""
        self._counts.add(self._clock(), False)

    def try_retry(self) -> bool:
        """True (and the retry counted) when the budget allows one more retry now."""
        if self.ratio <= 0:
            return False
        now = self._clock()
        requests, retries = self._counts.totals(now)
        if retries >= self.minimum + self.ratio * requests:
            return False
        self._counts.add(now, True)
        return True


def backoff(attempt: int, base: float = 0.025, cap: float = 0.5) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): "full jitter", anywhere from 0
    to an exponentially growing ceiling."""
    return random.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))
