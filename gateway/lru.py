"""A small bounded LRU map: by number of entries and, when given a way to weigh entries, by their
approximate size in bytes. It counts its hits, misses and evictions (for /metrics)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(
        self,
        max_entries: int,
        max_bytes: int | None = None,
        weigh: Callable[[K, V], int] | None = None,
        on_remove: Callable[[K, V], None] | None = None,
    ) -> None:
        if max_entries < 1:
            raise ValueError("an LRU holds at least one entry")
        if max_bytes is not None and weigh is None:
            raise ValueError("a size bound needs a way to weigh entries")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._weigh = weigh
        # told of every entry that leaves (evicted, replaced or popped), e.g. to keep accounts
        self._on_remove = on_remove
        # key -> (value, its weight)
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(key, value) if self._weigh is not None else 0
        self.pop(key)
        if self.max_bytes is not None and weight > self.max_bytes:
            return  # larger than the whole cache: not kept, and nothing else evicted for it
        self._items[key] = (value, weight)
        self.bytes += weight
        while len(self._items) > self.max_entries or (
            self.max_bytes is not None and self.bytes > self.max_bytes
        ):
            evicted_key, (evicted, evicted_weight) = self._items.popitem(last=False)
            self.bytes -= evicted_weight
            self.evictions += 1
            if self._on_remove is not None:
                self._on_remove(evicted_key, evicted)

    def pop(self, key: K) -> V | None:
        """Removes the entry (not counted as a use or an eviction); its value, or None."""
        old = self._items.pop(key, None)
        if old is None:
            return None
        self.bytes -= old[1]
        if self._on_remove is not None:
            self._on_remove(key, old[0])
        return old[0]

    def recent(self, limit: int) -> list[K]:
        """Up to `limit` keys, the most recently used first (without counting as a use)."""
        keys: list[K] = []
        for key in reversed(self._items):
            if len(keys) >= limit:
                break
            keys.append(key)
        return keys

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
