"""The cache backend of a gateway without Redis: in this process, bounded by bytes and entries.

aiocache's SimpleMemoryCache keeps every key until its TTL ends (and a timer per key), so a
stream of distinct entities grows the gateway without bound. This one is an LRU by approximate
bytes (what the text of key and value holds, plus a constant per entry) and by entries; an
expired entry counts as missing and is dropped when seen.

Counters (`increment`: the entity cache's invalidation versions) live apart from the data and
are never pushed out by it: dropping a version alone would bring back entries stored under an
older one. Only when there are more counters than `max_counters` are the least recently used
half of them dropped, and every data entry with them, so nothing stale can come back; a counter
bumped at every invalidation (the entity cache's sequence) is always among the kept ones.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

DEFAULT_BYTES = 64 * 1024 * 1024
DEFAULT_ENTRIES = 200_000
DEFAULT_COUNTERS = 50_000
_OVERHEAD = 150  # bytes per entry besides its key and value: tuple, dict slot, links
COUNTER_BYTES = 250  # a counter: its key (about 80 bytes of text), an int, a tuple, a slot


class BoundedMemoryCache:
    """The part of aiocache's interface that gateway.cache.store.CacheStore uses."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_BYTES,
        max_entries: int = DEFAULT_ENTRIES,
        max_counters: int = DEFAULT_COUNTERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_bytes < 1 or max_entries < 1 or max_counters < 2:
            raise ValueError("a memory cache holds at least one entry and two counters")
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_counters = max_counters
        self._clock = clock
        # key -> (value, expiry or None, weight), least recently used first
        self._data: OrderedDict[str, tuple[str, float | None, int]] = OrderedDict()
        self._counters: OrderedDict[str, tuple[int, float | None]] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data) + len(self._counters)

    @property
    def data_entries(self) -> int:
        return len(self._data)

    @property
    def counter_entries(self) -> int:
        return len(self._counters)

    @property
    def counter_bytes(self) -> int:
        return len(self._counters) * COUNTER_BYTES

    @property
    def bound(self) -> int:
        """What data and counters may hold together."""
        return self.max_bytes + self.max_counters * COUNTER_BYTES

    async def multi_get(self, keys: Sequence[str]) -> list[str | int | None]:
        return [self._get(key) for key in keys]

    async def get(self, key: str) -> str | int | None:
        return self._get(key)

    def _get(self, key: str) -> str | int | None:
        now = self._clock()
        item = self._data.get(key)
        if item is not None:
            if item[1] is not None and item[1] <= now:
                self._drop(key)
                return None
            self._data.move_to_end(key)
            return item[0]
        counter = self._counters.get(key)
        if counter is not None:
            if counter[1] is not None and counter[1] <= now:
                del self._counters[key]
                return None
            self._counters.move_to_end(key)
            return counter[0]
        return None

    async def multi_set(self, pairs: Sequence[tuple[str, str]], ttl: float | None = None) -> bool:
        expires = None if ttl is None else self._clock() + ttl
        for key, value in pairs:
            self._set(key, value, expires)
        return True

    async def set(self, key: str, value: str, ttl: float | None = None) -> bool:
        return await self.multi_set([(key, value)], ttl)

    def _set(self, key: str, value: str, expires: float | None) -> None:
        self._drop(key)
        self._counters.pop(key, None)
        weight = sys.getsizeof(key) + sys.getsizeof(value) + _OVERHEAD
        if weight > self.max_bytes:
            return
        self._data[key] = (value, expires, weight)
        self.bytes += weight
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, _, evicted) = self._data.popitem(last=False)
            self.bytes -= evicted
            self.evictions += 1

    def _drop(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self.bytes -= item[2]

    async def increment(self, key: str, delta: int = 1) -> int:
        now = self._clock()
        current = self._counters.pop(key, None)
        if current is not None and current[1] is not None and current[1] <= now:
            current = None
        value = (current[0] if current is not None else 0) + delta
        self._counters[key] = (value, current[1] if current is not None else None)
        if len(self._counters) > self.max_counters:
            self._forget_counters()
        return value

    def _forget_counters(self) -> None:
        """Drops the least recently used half of the counters, and all data (see above)."""
        for _ in range(len(self._counters) - self.max_counters // 2):
            self._counters.popitem(last=False)
        self.evictions += len(self._data)
        self._data.clear()
        self.bytes = 0

    async def expire(self, key: str, ttl: float) -> bool:
        expires = self._clock() + ttl
        item = self._data.get(key)
        if item is not None:
            self._data[key] = (item[0], expires, item[2])
            return True
        counter = self._counters.get(key)
        if counter is not None:
            self._counters[key] = (counter[0], expires)
            return True
        return False

    async def exists(self, key: str) -> bool:
        return self._get(key) is not None

    async def close(self) -> None:
        return None
