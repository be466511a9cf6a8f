"""Automatic persisted queries: the `extensions.persistedQuery` protocol clients already speak.

A client sends `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": H}}}` without the
query; the gateway answers from its store, or with `PERSISTED_QUERY_NOT_FOUND`, upon which the
client sends query and hash together and the gateway stores the query (after checking the hash).
`known` queries (an allow-list's files) are answered by hash without ever being registered.

Bounded, because anyone may register (issue 13: 284 distinct 900 KB documents from an anonymous
caller grew the gateway by 500 MB):

- only an operation that parsed, validated and passed its client's limits is stored (the app
  calls `register` after the request was admitted), so no entry is larger than the query-size
  limit;
- in this process: an LRU bounded by entries and bytes, each entry kept `ttl` seconds;
- per client application (the token's `azp`/`client_id`; every caller without a token is one
  client, "anonymous", since a header proves nothing): at most `client_entries` and
  `client_bytes` of the entries here. A client over its quota still gets its answers; its
  query is just not stored, and it sends the text again next time;
- shared through Redis (`--cache redis://...`), entries expire after `ttl`, and counters per
  window of `ttl` seconds bound what all replicas may store in it (half the bounds per window,
  so that what two windows leave alive stays within them), in total and per client.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from auth.principal import Principal
from gateway.cache.store import CacheStore
from gateway.errors import RequestError
from gateway.lru import LRU

KEY_PREFIX = "rugzak:apq:"
QUOTA_PREFIX = "rugzak:apq-quota:"
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
ANONYMOUS_CLIENT = "anonymous"
_ENTRY_OVERHEAD = 200  # bytes of an entry besides its text: key, tuple, LRU slot


@dataclass(frozen=True, slots=True)
class PersistedLimits:
    max_entries: int = 10_000
    max_bytes: int = 32 * 1024 * 1024
    ttl: float = 24 * 3600
    client_entries: int = 2_000
    client_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str
    # the hash to register the query under once the request is admitted; None: nothing to do
    register: str | None = None


def client_key(principal: Principal) -> str:
    """Whose quota a registration counts against."""
    if principal.is_anonymous:
        return ANONYMOUS_CLIENT
    return f"client:{principal.client_id}" if principal.client_id else "client:"


@dataclass(slots=True)
class _Entry:
    query: str
    owner: str
    expires: float
    size: int = 0


@dataclass(slots=True)
class _Account:
    entries: int = 0
    bytes: int = 0


def text_bytes(text: str) -> int:
    """What a query text holds in memory (a str of its width), with the entry around it."""
    return sys.getsizeof(text) + _ENTRY_OVERHEAD


class PersistedQueries:
    def __init__(
        self,
        store: CacheStore | None = None,
        limits: PersistedLimits | None = None,
        known: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """`store` is the shared store (Redis); None keeps them in this process only."""
        self.store = store
        self.limits = limits or PersistedLimits()
        self.known = dict(known or {})
        self._clock = clock
        self._wall_clock = wall_clock
        self.accounts: dict[str, _Account] = {}
        self.entries: LRU[str, _Entry] = LRU(
            self.limits.max_entries,
            self.limits.max_bytes,
            lambda _, entry: entry.size,
            self._removed,
        )

    def _removed(self, digest: str, entry: _Entry) -> None:
        account = self.accounts.get(entry.owner)
        if account is not None:
            account.entries -= 1
            account.bytes -= entry.size
            if account.entries <= 0:
                del self.accounts[entry.owner]

    def _local(self, digest: str) -> str | None:
        entry = self.entries.get(digest)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            self.entries.pop(digest)
            return None
        return entry.query

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        """The query to run; raises RequestError for the protocol's error answers."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None:
                raise RequestError(
                    "GraphQL operations must contain a non-empty `query`.", "BAD_REQUEST"
                )
            return Resolved(query)
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise RequestError(
                "Unsupported persisted query version: only version 1 is known.",
                "PERSISTED_QUERY_NOT_SUPPORTED",
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise RequestError(
                "persistedQuery.sha256Hash must be 64 hexadecimal digits.", "BAD_REQUEST"
            )
        digest = digest.lower()
        if query is None:
            found = self.known.get(digest) or self._local(digest)
            if found is None and self.store is not None:
                found = await self.store.get(KEY_PREFIX + digest)
                if found is not None:  # another replica's: kept here too, on nobody's quota
                    self._keep(digest, found, "")
            if found is None:
                raise RequestError("PersistedQueryNotFound", NOT_FOUND)
            return Resolved(found)
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise RequestError("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
        if digest in self.known or self._local(digest) is not None:
            return Resolved(query)
        return Resolved(query, digest)

    async def register(self, digest: str, query: str, principal: Principal) -> bool:
        """Stores an admitted query under its hash, within the bounds and the caller's quota;
        whether it was stored."""
        owner = client_key(principal)
        size = text_bytes(query)
        account = self.accounts.get(owner, _Account())
        limits = self.limits
        if account.entries >= limits.client_entries or account.bytes + size > limits.client_bytes:
            return False
        if self.store is not None and not await self._shared_quota(owner, size):
            return False
        self._keep(digest, query, owner)
        if self.store is not None:
            await self.store.set(KEY_PREFIX + digest, query, limits.ttl)
        return digest in self.entries

    def _keep(self, digest: str, query: str, owner: str) -> None:
        entry = _Entry(query, owner, self._clock() + self.limits.ttl, text_bytes(query))
        self.entries.put(digest, entry)
        if digest in self.entries and owner:
            account = self.accounts.setdefault(owner, _Account())
            account.entries += 1
            account.bytes += entry.size

    async def _shared_quota(self, owner: str, size: int) -> bool:
        """Counts a registration against the shared store's bounds for this window of `ttl`
        seconds (in total and for the client); False when over one, or the store is down."""
        limits, store = self.limits, self.store
        assert store is not None
        window = int(self._wall_clock() // limits.ttl)
        checks = (
            ("all:n", 1, limits.max_entries),
            ("all:b", size, limits.max_bytes),
            (f"{owner}:n", 1, limits.client_entries),
            (f"{owner}:b", size, limits.client_bytes),
        )
        for name, amount, bound in checks:
            key = f"{QUOTA_PREFIX}{window}:{name}"
            count = await store.increment(key, amount)
            if count is None:
                return False
            if count == amount:  # a new counter: it lives as long as what it counts
                await store.expire(key, 2 * limits.ttl)
            if count > bound // 2:
                return False
        return True

    @property
    def bytes(self) -> int:
        return self.entries.bytes
