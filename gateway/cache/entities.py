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
from gateway.cache.status import CacheStatus
from gateway.cache.store import CacheStore
from gateway.metrics import Metrics
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.cache")

PREFIX = "rugzak:e:"
VERSION_PREFIX = "rugzak:v:"
SEQUENCE_KEY = "rugzak:v:__sequence__"  # bumped by every invalidation
MAX_HINTS = 10_000  # fetch selections whose latest Cache-Control is kept (gateway/http/caching)


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
    """The cached answers of one fetch's entries (None: fetch it): one per representation of an
    entity fetch, or one for a root fetch."""

    answers: list[dict[str, Any] | None]
    keys: list[tuple[str, str | None]]  # (shared key, private key) per entry
    types: list[str]  # the type of each entry ("Query" for a root fetch)
    # the invalidation sequence when the entries were looked up: an answer is stored only if no
    # invalidation came between (it may have been fetched before the change it missed)
    sequence: str = "0"


class EntityCache:
    """Entity entries, and root query entries (type "Query"), as described above; an entry
    also depends on the tags its subgraph listed in `extensions.cacheTags`."""

    def __init__(
        self,
        store: CacheStore,
        supergraph: Supergraph,
        ttl_by_type: Mapping[str, float] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.supergraph = supergraph
        self.schema_hash = supergraph.schema_hash[:16]
        self.guarded = guarded_types(supergraph)
        self.ttl_by_type = dict(ttl_by_type or {})
        self.metrics = metrics
        self._in_flight: dict[str, asyncio.Future[Any]] = {}
        # subgraphs whose last query answer could not be cached (no-store, or no Cache-Control
        # and no --entity-ttl): looking their entries up would only cost time
        self._not_cacheable: set[str] = set()
        # per subgraph and fetch selection, the latest Cache-Control: what a hit on the
        # entries that fetch stores counts with (bounded: forgotten all at once when full)
        self._hints: dict[tuple[str, str], CacheControl | None] = {}

    def worth_looking(self, service: str) -> bool:
        return bool(self.ttl_by_type) or service not in self._not_cacheable

    def learn(self, service: str, control: CacheControl | None) -> None:
        """What a subgraph's latest query answer says about caching its answers."""
        if control is not None and not control.no_store and (control.max_age or 0) > 0:
            self._not_cacheable.discard(service)
        else:
            self._not_cacheable.add(service)

    def note_hint(self, service: str, selection: str, hint: CacheControl | None) -> None:
        if len(self._hints) >= MAX_HINTS:
            self._hints.clear()
        self._hints[(service, selection)] = hint

    def hint(self, service: str, selection: str) -> CacheControl | None:
        """The Cache-Control the latest answer to this fetch gave (None: none, or unknown)."""
        return self._hints.get((service, selection))

    def _fetch_hash(self, service: str, text: str, variables: Mapping[str, Any]) -> str:
        data = orjson.dumps([service, text, variables], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(data).hexdigest()[:24]

    async def lookup(
        self,
        service: str,
        selection: str,
        variables: Mapping[str, Any],
        representations: Sequence[Mapping[str, Any]],
        principal: Principal,
        status: CacheStatus | None = None,
    ) -> Lookup:
        """The entries of an entity fetch, one per representation; `status` records what the
        cache had."""
        versions = await self._versions([entity_tag(rep) for rep in representations])
        fetch_hash = self._fetch_hash(service, selection, variables)
        scope = _scope(principal)
        keys: list[tuple[str, str | None]] = []
        for rep, version in zip(representations, versions, strict=True):
            data = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
            rep_hash = hashlib.sha256(data).hexdigest()[:24]
            base = f"{PREFIX}{self.schema_hash}:{service}:{fetch_hash}:{rep_hash}:{version}"
            keys.append((base, f"{base}:p:{scope}" if scope else None))
        types = [str(rep.get("__typename")) for rep in representations]
        return await self._read(service, keys, types, status)

    async def lookup_root(
        self,
        service: str,
        document: str,
        variables: Mapping[str, Any],
        root_fields: Sequence[str],
        principal: Principal,
        status: CacheStatus | None = None,
    ) -> Lookup | None:
        """The entry of a root query fetch; None when it can never be cached (private data of
        an anonymous caller)."""
        scope = _scope(principal)
        if self.root_is_private(root_fields) and scope is None:
            if status is not None:
                status.bypass(service, "Query")
            return None
        fetch_hash = self._fetch_hash(service, document, variables)
        base = f"{PREFIX}{self.schema_hash}:{service}:{fetch_hash}:root"
        return await self._read(
            service, [(base, f"{base}:p:{scope}" if scope else None)], ["Query"], status
        )

    def root_is_private(self, root_fields: Sequence[str]) -> bool:
        query = self.supergraph.api_schema.query_type
        if query is None:
            return True
        for name in root_fields:
            field = query.fields.get(name)
            if field is None or (query.name, name) in self.supergraph.field_access:
                return True
            if get_named_type(field.type).name in self.guarded:
                return True
        return False

    async def _read(
        self,
        service: str,
        keys: list[tuple[str, str | None]],
        types: list[str],
        status: CacheStatus | None,
    ) -> Lookup:
        wanted = [k for pair in keys for k in pair if k is not None]
        read = await self.store.get_many([SEQUENCE_KEY, *wanted])
        sequence = read[0] or "0"
        found = dict(zip(wanted, read[1:], strict=True))
        entries: list[dict[str, Any] | None] = []
        for shared, private in keys:
            text = found.get(shared) or (found.get(private) if private else None)
            entry = orjson.loads(text) if text else None
            entries.append(entry if isinstance(entry, dict) and "a" in entry else None)
        # entries that depend on tags their subgraph declared: still the versions stored?
        tags = sorted({t for e in entries if e for t in (e.get("t") or {})})
        current = dict(zip(tags, await self._versions(tags), strict=True)) if tags else {}
        answers: list[dict[str, Any] | None] = []
        for entry, type_name in zip(entries, types, strict=True):
            valid = entry is not None and all(
                current.get(t) == v for t, v in (entry.get("t") or {}).items()
            )
            answer = entry["a"] if entry is not None and valid else None
            answers.append(answer if isinstance(answer, dict) else None)
            self._count(service, type_name, answers[-1] is not None)
        if status is not None:
            status.record(service, types, answers)
        return Lookup(answers, keys, types, sequence)

    def save(
        self,
        lookup: Lookup,
        answers: Mapping[int, dict[str, Any]],
        cache_control: CacheControl | None,
        tags: Sequence[str] = (),
        private_root: bool = False,
    ) -> Awaitable[None]:
        """Stores the fetched answers (entry index -> answer) that may be cached, and how long;
        `tags` are those the subgraph declared for its whole answer.

        The answers are serialized at once, the store is written when the result is awaited:
        the answers go on to be merged into the response, where other fetches of the same
        request add to them, and none of that may reach the cache."""
        by_ttl: dict[float, list[tuple[str, bytes]]] = {}
        if cache_control is not None and cache_control.no_store:
            return self._write(by_ttl, tags, lookup.sequence)
        for index, answer in answers.items():
            type_name = lookup.types[index]
            ttl = cache_control.max_age if cache_control else None
            if ttl is None:
                ttl = self.ttl_by_type.get(type_name)
            if not ttl or ttl <= 0:
                continue
            private = (cache_control is not None and cache_control.private) or (
                private_root if type_name == "Query" else type_name in self.guarded
            )
            shared_key, private_key = lookup.keys[index]
            key = private_key if private else shared_key
            if key is None:  # private data of an anonymous caller: never cached
                continue
            by_ttl.setdefault(ttl, []).append((key, orjson.dumps(answer)))
        return self._write(by_ttl, tags, lookup.sequence)

    async def _write(
        self,
        by_ttl: Mapping[float, list[tuple[str, bytes]]],
        tags: Sequence[str],
        sequence: str,
    ) -> None:
        if not by_ttl:
            return
        unique = list(dict.fromkeys(tags))
        read = await self.store.get_many([SEQUENCE_KEY, *(VERSION_PREFIX + t for t in unique)])
        if (read[0] or "0") != sequence:
            return  # something was invalidated while this was fetched: it may be stale already
        versions = {t: (v or "0") for t, v in zip(unique, read[1:], strict=True)}
        depends = orjson.dumps(versions)
        for ttl, items in by_ttl.items():
            values = [(k, (b'{"a":' + a + b',"t":' + depends + b"}").decode()) for k, a in items]
            await self.store.set_many(values, ttl)

    async def invalidate(self, tags: Iterable[str]) -> int:
        """Bumps each tag's version; returns how many tags were invalidated."""
        count = 0
        # the sequence first: an answer stored between the two bumps is refused by _write
        await self.store.increment(SEQUENCE_KEY)
        for tag in tags:
            if await self.store.increment(VERSION_PREFIX + tag) is not None:
                count += 1
                if self.metrics is not None:
                    # a label per type of this schema only: callers choose the tags
                    name = tag.split(":", 1)[0]
                    known = name in self.supergraph.api_schema.type_map
                    self.metrics.invalidations.labels(type=name if known else "other").inc()
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

    def _count(self, service: str, type_name: str, hit: bool) -> None:
        if self.metrics is not None:
            counter = self.metrics.entity_cache_hits if hit else self.metrics.entity_cache_misses
            # a subgraph names the types of its entities: a label per type of this schema only
            known = type_name in self.supergraph.api_schema.type_map
            counter.labels(subgraph=service, type=type_name if known else "other").inc()
