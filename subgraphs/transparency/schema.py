"""The transparency subgraph's schema: it adds `accessLog` to the Citizen entity, nothing else
(no root fields: citizens are reached through `me` or `citizen(insz:)` of the other subgraphs).

Print its SDL with `python -m subgraphs.transparency.schema`.
"""

from __future__ import annotations

import strawberry

from subgraphs.common.caching import CacheHints
from subgraphs.common.federation import build_schema
from subgraphs.transparency.types import Citizen

CACHE_HINTS: CacheHints = {}
"""None: the log grows with every read, so nothing of it may be cached (no-store)."""


@strawberry.type
class Query:
    pass


schema = build_schema(Query, types=[Citizen], cache_hints=CACHE_HINTS)

if __name__ == "__main__":
    print(schema.as_str())
