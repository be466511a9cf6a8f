"""What executing one plan produces, fetch by fetch: the merged data, the errors, and what the
answer's caching and shaping need to know of how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth.principal import Principal
from gateway.cache.entities import CacheControl
from gateway.cache.status import CacheStatus
from gateway.ownership.guard import Ownership


@dataclass(slots=True)
class ExecutionState:
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    subgraph_calls: int = 0
    # paths left null by a subgraph's own null propagation after one of its errors: the error
    # already explains them, so shaping must not add "Cannot return null" for them
    explained: list[list[Any]] = field(default_factory=list)
    # who asks: private cache entries are theirs; None (mutations) bypasses the entity cache
    principal: Principal | None = None
    # what came from the entity cache, when the response is to say so
    cache_status: CacheStatus | None = None
    # fields readable only on the caller's own entities: representations are screened
    ownership: Ownership | None = None
    # when the request must be answered (event loop time); set when execution starts if None
    deadline: float | None = None
    # per fetch, the Cache-Control its subgraph gave (None: none), for the answer's own
    # Cache-Control (gateway/http/caching.py)
    cache_hints: list[CacheControl | None] = field(default_factory=list)
