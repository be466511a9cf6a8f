"""A small key-value interface over aiocache: in memory by default, Redis when configured.

Values are text (JSON). Every operation has a short timeout, and any failure of the backend is
a miss (for reads) or a skipped write, never an error of the request: the gateway keeps serving
without its cache. After a failure the store stays out of the way for a few seconds (so a dead
Redis does not cost every request a timeout) and `healthy` says so; `errors` counts failures.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiocache import BaseCache
from aiocache.serializers import NullSerializer

from gateway.cache.memory import DEFAULT_BYTES, BoundedMemoryCache
from gateway.outage_log import OutageLog, short_error

log = logging.getLogger("rugzak.cache")

DEFAULT_TIMEOUT = 0.25  # seconds; a cache slower than this is not worth waiting for
RETRY_AFTER = 5.0  # seconds without the backend after it failed
_PING_KEY = "rugzak:ping"


class CacheStore:
    def __init__(
        self,
        backend: BaseCache | BoundedMemoryCache,
        description: str,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.backend = backend
        self.description = description
        self.timeout = timeout
        self.errors = 0
        self._down_until = 0.0
        self.outage = OutageLog(
            log, f"cache {description}", meanwhile="serving without the cache meanwhile"
        )

    @property
    def healthy(self) -> bool:
        return time.monotonic() >= self._down_until

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        if not keys:
            return []
        found = await self._call("multi_get", self.backend.multi_get, list(keys))
        if not isinstance(found, list) or len(found) != len(keys):
            return [None] * len(keys)
        # counters come back as numbers from memory and as text from Redis
        return [v if isinstance(v, str) else str(v) if isinstance(v, int) else None for v in found]

    async def get(self, key: str) -> str | None:
        return (await self.get_many([key]))[0]

    async def set_many(self, items: Sequence[tuple[str, str]], ttl: float | None) -> None:
        if items:
            await self._call("multi_set", self.backend.multi_set, list(items), ttl=ttl)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.set_many([(key, value)], ttl)

    async def increment(self, key: str, delta: int = 1) -> int | None:
        """Adds `delta` to a counter (created at 0); None when the backend failed."""
        value = await self._call("increment", self.backend.increment, key, delta)
        return value if isinstance(value, int) else None

    async def ping(self) -> str | None:
        """Asks the backend itself, even while the store keeps out of its way: None when it
        answers (and the store uses it again at once), else why not (for /ready)."""
        try:
            await asyncio.wait_for(self.backend.exists(_PING_KEY), self.timeout)
        except Exception as exc:
            self.errors += 1
            self._down_until = time.monotonic() + RETRY_AFTER
            self.outage.failed(exc)
            return short_error(exc)
        self._down_until = 0.0
        self.outage.answered()
        return None

    async def expire(self, key: str, ttl: float) -> None:
        """Lets the entry (e.g. a counter) expire `ttl` seconds from now (whole seconds, as
        Redis counts them)."""
        await self._call("expire", self.backend.expire, key, max(1, math.ceil(ttl)))

    async def close(self) -> None:
        try:
            await self.backend.close()
        except Exception:  # closing a broken connection must not stop a shutdown
            log.debug("closing the cache failed", exc_info=True)

    async def _call(self, operation: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.healthy:
            return None
        try:
            result = await asyncio.wait_for(method(*args, **kwargs), self.timeout)
        except Exception as exc:  # any backend failure is a miss, never a failed request
            self.errors += 1
            self._down_until = time.monotonic() + RETRY_AFTER
            self.outage.failed(exc)  # one line when it goes down, not one per request
            log.debug("cache %s %s failed: %r", self.description, operation, exc)
            return None
        self.outage.answered()
        return result


def cache_store(url: str | None, memory_bytes: int = DEFAULT_BYTES) -> CacheStore:
    """The store for `url`: None or "memory" keeps it in this process, within `memory_bytes`
    (gateway/cache/memory.py); `redis://host:port/db`."""
    if not url or url == "memory":
        return CacheStore(BoundedMemoryCache(memory_bytes), "memory")
    parts = urlsplit(url)
    if parts.scheme != "redis":
        raise ValueError(f"cache URL must be memory or redis://host:port/db, got {url!r}")
    from aiocache import RedisCache
    from redis.exceptions import ConnectionError as RedisConnectionError

    db = parts.path.lstrip("/")
    backend = RedisCache(
        serializer=NullSerializer(),
        endpoint=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db) if db.isdigit() else 0,
        password=parts.password,
        create_connection_timeout=DEFAULT_TIMEOUT,
        # once more on a new connection: after Redis restarted, each pooled connection is
        # stale and would otherwise fail one call (a miss, and the cache skipped for a while)
        connection_pool_kwargs={"retry_on_error": [RedisConnectionError]},
    )
    return CacheStore(backend, f"redis {parts.hostname}:{parts.port or 6379}")
