"""What came from the entity cache for one request, for the `x-rugzak-cache` header and
`extensions.cacheStatus` (only when configuration allows: `--expose-cache-status`).

One record per fetch and type: the subgraph, the entity type ("Query" for a root query's answer),
how many entries the cache had (hits) and did not have (misses). A fetch the cache could not
serve at all (a root query reading private data for an anonymous caller) is a bypass.

The request as a whole: HIT when everything came from the cache, MISS when nothing did, PARTIAL
in between, BYPASS when the cache was not asked at all (a mutation, or only uncacheable fetches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

HEADER = "x-rugzak-cache"
HIT, PARTIAL, MISS, BYPASS = "HIT", "PARTIAL", "MISS", "BYPASS"


@dataclass(slots=True)
class FetchStatus:
    subgraph: str
    type: str
    hits: int = 0
    misses: int = 0
    bypass: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subgraph": self.subgraph,
            "type": self.type,
            "hits": self.hits,
            "misses": self.misses,
        }
        if self.bypass:
            out["bypass"] = True
        return out


@dataclass(slots=True)
class CacheStatus:
    fetches: list[FetchStatus] = field(default_factory=list)

    def record(self, subgraph: str, types: Sequence[str], found: Sequence[object | None]) -> None:
        """One lookup: the type of each entry, and what the cache had for it (None: nothing)."""
        by_type: dict[str, FetchStatus] = {}
        for type_name, answer in zip(types, found, strict=True):
            entry = by_type.get(type_name)
            if entry is None:
                entry = by_type[type_name] = FetchStatus(subgraph, type_name)
                self.fetches.append(entry)
            if answer is None:
                entry.misses += 1
            else:
                entry.hits += 1

    def bypass(self, subgraph: str, type_name: str) -> None:
        self.fetches.append(FetchStatus(subgraph, type_name, bypass=True))

    @property
    def summary(self) -> str:
        hits = sum(f.hits for f in self.fetches)
        misses = sum(f.misses for f in self.fetches)
        bypassed = any(f.bypass for f in self.fetches)
        if hits == 0:
            return MISS if misses else BYPASS
        return PARTIAL if misses or bypassed else HIT

    def to_json(self) -> dict[str, Any]:
        return {"status": self.summary, "fetches": [f.to_json() for f in self.fetches]}
