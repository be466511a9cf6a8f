"""Automatic persisted queries: the `extensions.persistedQuery` protocol clients already speak.

A client sends `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": H}}}` without the
query; the gateway answers from its store, or with `PERSISTED_QUERY_NOT_FOUND`, upon which the
client sends query and hash together and the gateway stores the query (after checking the hash).
Queries live in the shared cache store (so replicas share them) behind a small local LRU;
`known` queries (an allow-list's files) are answered by hash without ever being registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from gateway.cache.store import CacheStore
from gateway.errors import RequestError
from gateway.lru import LRU

KEY_PREFIX = "rugzak:apq:"
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueries:
    def __init__(
        self,
        store: CacheStore,
        ttl: float | None = 24 * 3600,
        known: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.known = dict(known or {})
        self._local: LRU[str, str] = LRU(2000)

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The query to run; raises RequestError for the protocol's error answers."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None:
                raise RequestError(
                    "GraphQL operations must contain a non-empty `query`.", "BAD_REQUEST"
                )
            return query
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
            found = self.known.get(digest) or self._local.get(digest)
            if found is None:
                found = await self.store.get(KEY_PREFIX + digest)
                if found is None:
                    raise RequestError("PersistedQueryNotFound", NOT_FOUND)
                self._local.put(digest, found)
            return found
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise RequestError("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
        if self._local.get(digest) is None:
            self._local.put(digest, query)
            await self.store.set(KEY_PREFIX + digest, query, self.ttl)
        return query
