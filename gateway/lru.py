"""A small bounded LRU map: by number of entries and, when given a way to weigh entries, by their
approximate size in bytes. It counts its hits, misses and evictions (for /metrics).

`offer` keeps an entry only the second time its key is offered (a doorkeeper, as in TinyLFU):
an operation sent once and never again (every request of a client that makes up new ones)
neither evicts what is used nor stays in memory to be walked by the garbage collector's passes
(gateway/collector.py); one used twice costs one more preparation before it is kept."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Doorkeeper:
    """The keys offered once, as hashes, the most recent `capacity` to `2 * capacity` of them:
    two sets, the older dropped when the newer is full. A hash collision only keeps an entry
    one offer early."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._recent: set[int] = set()
        self._older: set[int] = set()

    def seen(self, key: object) -> bool:
        """Whether `key` was offered before; remembers it either way."""
        digest = hash(key)
        if digest in self._recent or digest in self._older:
            return True
        if len(self._recent) >= self.capacity:
            self._older, self._recent = self._recent, set()
        self._recent.add(digest)
        return False


class LRU(Generic[K, V]):
    def __init__(
        self,
        max_entries: int,
        max_bytes: int | None = None,
        weigh: Callable[[K, V], int] | None = None,
        on_remove: Callable[[K, V], None] | None = None,
        second_sight: bool = False,
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
        # what `offer` keeps on second sight (None: on first)
        self._doorkeeper = Doorkeeper(4 * max_entries) if second_sight else None
        self.declined = 0

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

    def offer(self, key: K, value: V) -> bool:
        """`put` for an entry just made for a request: with `second_sight`, kept only when the
        key was offered before (see the module's docstring). Whether it was kept."""
        doorkeeper = self._doorkeeper
        if doorkeeper is not None and key not in self._items and not doorkeeper.seen(key):
            self.declined += 1
            return False
        self.put(key, value)
        return True

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
