"""The entity cache: what a subgraph answered for one entity, kept for the next request.

An entry is one entity's answer to one entity fetch: the key holds the schema, the subgraph, the
fetch's selection (and the variables it uses), the representation, the entity's invalidation
version, and (for private entries) who it was fetched for. A fetch whose entities are partly
cached asks the subgraph only for the missing ones.

How long: the subgraph's `Cache-Control` (`max-age`; `no-store` never) or, without one, the
configured seconds per type; neither means the entity is not cached.

Private or shared: private when the subgraph says `private`, or when the entity's type can lead
to anything under authorisation (a type or field with `@authenticated`, `@requiresScopes` or
`@policy`, directly or through the types its fields return). A private entry is keyed by the
principal it was fetched for and never served to anyone else; an anonymous caller's private
data is not cached at all.

Invalidation: every entity belongs to the tag `<Type>:<key values>` (e.g. `Ticket:123`,
`Citizen:85671012385`); invalidating a tag bumps its version, which is part of every key, so
older entries are never read again (and expire).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLObjectType, get_named_type

from auth.principal import Principal
from gateway.cache.store import CacheStore
from gateway.metrics import Metrics
from gateway.supergraph import Supergraph

log = logging.getLogger("rugzak.cache")

PREFIX = "rugzak:e:"
VERSION_PREFIX = "rugzak:v:"


@dataclass(frozen=True, slots=True)
class CacheControl:
    max_age: float | None = None
    private: bool = False
    no_store: bool = False


def parse_cache_control(header: str | None) -> CacheControl | None:
    """`Cache-Control` of a subgraph response; None when absent."""
    if header is None:
        return None
    max_age: float | None = None
    private = no_store = False
    for directive in header.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name == "no-store":
            no_store = True
        elif name == "private":
            private = True
        elif name in ("max-age", "s-maxage") and value.strip().isdigit():
            seconds = float(value.strip())
            max_age = seconds if max_age is None else min(max_age, seconds)
    return CacheControl(max_age, private, no_store)


def guarded_types(supergraph: Supergraph) -> frozenset[str]:
    """Types from which something under authorisation can be reached."""
    schema = supergraph.api_schema
    ruled_types = set(supergraph.type_access) | {t for t, _ in supergraph.field_access}
    edges: dict[str, set[str]] = {}
    for name, gtype in schema.type_map.items():
        if isinstance(gtype, GraphQLObjectType) and not name.startswith("__"):
            edges[name] = {get_named_type(f.type).name for f in gtype.fields.values()}
    guarded = set(ruled_types)
    changed = True
    while changed:  # a fixed point over the type graph (cycles included)
        changed = False
        for name, targets in edges.items():
            if name not in guarded and targets & guarded:
                guarded.add(name)
                changed = True
    return frozenset(guarded)


def entity_tag(representation: Mapping[str, Any]) -> str:
    """`Type:value[,value...]` from a representation (its key fields, in order)."""
    values = [v for k, v in representation.items() if k != "__typename"]
    text = ",".join(v if isinstance(v, str) else orjson.dumps(v).decode() for v in values)
    return f"{representation.get('__typename')}:{text}"


INVALIDATE_SCOPE = "cache:invalidate"


def invalidation_tags(payload: Any) -> list[str]:
    """The tags an invalidation request names: `tags` as given, `entities` as `Type:keys`."""
    if not isinstance(payload, dict) or not set(payload) <= {"tags", "entities"}:
        raise ValueError('send {"tags": [...]} and/or {"entities": [{"__typename": ...}]}')
    tags = payload.get("tags") or []
    entities = payload.get("entities") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and ":" in t for t in tags):
        raise ValueError('tags are strings like "Ticket:123"')
    if not isinstance(entities, list) or not all(
        isinstance(e, dict) and isinstance(e.get("__typename"), str) and len(e) > 1
        for e in entities
    ):
        raise ValueError("entities are objects with __typename and their key fields")
    found = [*tags, *(entity_tag(e) for e in entities)]
    if not found:
        raise ValueError("nothing to invalidate")
    return list(dict.fromkeys(found))


def _scope(principal: Principal) -> str | None:
    if principal.is_anonymous:
        return None
    who = f"{principal.issuer}\x00{principal.subject}\x00{principal.insz}"
    return hashlib.sha256(who.encode()).hexdigest()[:32]


@dataclass(slots=True)
class Lookup:
    """The cached answers of one fetch's representations (None: fetch it)."""

    answers: list[dict[str, Any] | None]
    keys: list[tuple[str, str | None]]  # (shared key, private key) per representation


class EntityCache:
    def __init__(
        self,
        store: CacheStore,
        supergraph: Supergraph,
        ttl_by_type: Mapping[str, float] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.schema_hash = supergraph.schema_hash[:16]
        self.guarded = guarded_types(supergraph)
        self.ttl_by_type = dict(ttl_by_type or {})
        self.metrics = metrics
        self._in_flight: dict[str, asyncio.Future[Any]] = {}

    async def lookup(
        self,
        service: str,
        selection: str,
        variables: Mapping[str, Any],
        representations: Sequence[Mapping[str, Any]],
        principal: Principal,
    ) -> Lookup:
        tags = [entity_tag(rep) for rep in representations]
        versions = await self._versions(tags)
        fetch_hash = hashlib.sha256(
            orjson.dumps([service, selection, variables], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()[:24]
        scope = _scope(principal)
        keys: list[tuple[str, str | None]] = []
        for rep, version in zip(representations, versions, strict=True):
            rep_hash = hashlib.sha256(orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)).hexdigest()[
                :24
            ]
            base = f"{PREFIX}{self.schema_hash}:{service}:{fetch_hash}:{rep_hash}:{version}"
            keys.append((base, f"{base}:p:{scope}" if scope else None))
        wanted = [k for pair in keys for k in pair if k is not None]
        found = dict(zip(wanted, await self.store.get_many(wanted), strict=True))
        answers: list[dict[str, Any] | None] = []
        for rep, (shared, private) in zip(representations, keys, strict=True):
            text = found.get(shared) or (found.get(private) if private else None)
            answer = orjson.loads(text) if text else None
            answers.append(answer if isinstance(answer, dict) else None)
            self._count(service, str(rep.get("__typename")), "hit" if answer else "miss")
        return Lookup(answers, keys)

    async def save(
        self,
        lookup: Lookup,
        representations: Sequence[Mapping[str, Any]],
        answers: Mapping[int, dict[str, Any]],
        principal: Principal,
        cache_control: CacheControl | None,
    ) -> None:
        """Stores the fetched answers (index -> entity) that may be cached, and how long."""
        if cache_control is not None and cache_control.no_store:
            return
        by_ttl: dict[float, list[tuple[str, str]]] = {}
        for index, entity in answers.items():
            rep = representations[index]
            type_name = str(rep.get("__typename"))
            ttl = cache_control.max_age if cache_control else None
            if ttl is None:
                ttl = self.ttl_by_type.get(type_name)
            if not ttl or ttl <= 0:
                continue
            private = (cache_control is not None and cache_control.private) or (
                type_name in self.guarded
            )
            shared_key, private_key = lookup.keys[index]
            key = private_key if private else shared_key
            if key is None:  # private data of an anonymous caller: never cached
                continue
            by_ttl.setdefault(ttl, []).append((key, orjson.dumps(entity).decode()))
        for ttl, items in by_ttl.items():
            await self.store.set_many(items, ttl)

    async def invalidate(self, tags: Iterable[str]) -> int:
        """Bumps each tag's version; returns how many tags were invalidated."""
        count = 0
        for tag in tags:
            if await self.store.increment(VERSION_PREFIX + tag) is not None:
                count += 1
                if self.metrics is not None:
                    self.metrics.invalidations.labels(type=tag.split(":", 1)[0]).inc()
        return count

    async def single_flight(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """Concurrent callers with the same key share one `fetch()`."""
        running = self._in_flight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await fetch()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._in_flight[key]

    async def _versions(self, tags: Sequence[str]) -> list[str]:
        unique = list(dict.fromkeys(tags))
        found = await self.store.get_many([VERSION_PREFIX + t for t in unique])
        version = {t: (v or "0") for t, v in zip(unique, found, strict=True)}
        return [version[t] for t in tags]

    def _count(self, service: str, type_name: str, outcome: str) -> None:
        if self.metrics is not None:
            counter = self.metrics.entity_cache
            counter.labels(subgraph=service, type=type_name, outcome=outcome).inc()
