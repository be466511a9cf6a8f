"""The entity cache (gateway/cache/entities.py) as a layer around subgraph calls: what it knows is
answered before a call, what a call answered is stored after it, and every call's Cache-Control
is noted, for the answer's own (gateway/http/caching.py) and for later hits.

Without an entity cache, or for a request without a principal (mutations), calls go straight
through."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from gateway.cache.entities import EntityCache, Lookup
from gateway.execution.entity_parts import Cached, EntityPart, merge_entity
from gateway.execution.state import ExecutionState
from gateway.execution.subgraph_calls import Answer, Call, SubgraphCalls
from gateway.execution.transport import SubgraphResponse
from gateway.planning.plan import FetchNode


class EntityCacheLayer:
    def __init__(self, calls: SubgraphCalls, cache: EntityCache | None) -> None:
        self.calls = calls
        self.cache = cache

    async def call(self, call: Call, state: ExecutionState, *selections: str) -> Answer:
        """One subgraph call; its Cache-Control is kept for the answer's own and, by the entity
        cache, for the hits on what this call stores (`selections`: its fetches')."""
        state.subgraph_calls += 1
        result = await self.calls.make(call)
        hint = result.cache_control if isinstance(result, SubgraphResponse) else None
        cache = self.cache
        if cache is not None and call.shareable and isinstance(result, SubgraphResponse):
            cache.learn(call.service, hint)  # what its latest query answer says of caching
        state.cache_hints.append(hint)
        if cache is not None:
            for selection in selections:
                cache.note_hint(call.service, selection, hint)
        return result

    async def root_lookup(
        self, node: FetchNode, variables: Mapping[str, Any], state: ExecutionState
    ) -> Lookup | None:
        """The cache's entry for a root query fetch (None: not cacheable here). When it has the
        answer, its hint is noted and the answer merged by the caller."""
        cache = self.cache
        if (
            cache is None
            or state.principal is None
            or node.operation_kind != "query"
            or not cache.worth_looking(node.service)
        ):
            return None
        lookup = await cache.lookup_root(
            node.service,
            node.document,
            variables,
            node.root_fields,
            state.principal,
            state.cache_status,
        )
        if lookup is not None and lookup.answers[0] is not None:
            state.cache_hints.append(cache.hint(node.service, node.document))
        return lookup

    async def save_root(
        self, lookup: Lookup, node: FetchNode, data: dict[str, Any], response: SubgraphResponse
    ) -> None:
        cache = self.cache
        assert cache is not None  # a lookup comes from it
        private = cache.root_is_private(node.root_fields)
        await cache.save(lookup, {0: data}, response.cache_control, response.cache_tags, private)

    async def entity_parts_left(
        self, parts: list[EntityPart], state: ExecutionState
    ) -> list[EntityPart]:
        """Answers what the cache knows of each part (merged into the part's objects at once);
        what is left to fetch."""
        cache, principal = self.cache, state.principal
        if cache is None or principal is None:
            return parts
        left = []
        for part in parts:
            if not cache.worth_looking(part.node.service):
                left.append(part)
                continue
            rest = await self._from_cache(cache, part, state)
            if rest is None or len(rest.reps) < len(part.reps):  # something was cached
                state.cache_hints.append(cache.hint(part.node.service, part.node.selection))
            if rest is not None:
                left.append(rest)
        return left

    def save_entities(
        self,
        part: EntityPart,
        entities: Any,
        errors: list[Any],
        field: str,
        response: SubgraphResponse,
    ) -> Awaitable[None]:
        """Puts the part's answered entities in the cache, but none that an error touched
        (serialized now, written when awaited: see EntityCache.save)."""
        if part.cached is None or self.cache is None:
            return _done()
        if not isinstance(entities, list):
            return _done()
        touched = {
            e["path"][1]
            for e in errors
            if isinstance(e, dict)
            and isinstance(e.get("path"), list)
            and len(e["path"]) >= 2
            and e["path"][0] == field
        }
        if any(isinstance(e, dict) and not e.get("path") for e in errors):
            return _done()  # an error without a path may concern any entity
        answers = {
            part.cached.missing[i]: entity
            for i, entity in enumerate(entities[: len(part.reps)])
            if isinstance(entity, dict) and i not in touched
        }
        control, tags = response.cache_control, response.cache_tags
        return self.cache.save(part.cached.lookup, answers, control, tags)

    @staticmethod
    async def _from_cache(
        cache: EntityCache, part: EntityPart, state: ExecutionState
    ) -> EntityPart | None:
        """Answers what the cache knows; the part left to fetch, or None when all was cached."""
        node = part.node
        assert state.principal is not None
        lookup = await cache.lookup(
            node.service,
            node.selection,
            part.variables,
            part.reps,
            state.principal,
            state.cache_status,
        )
        missing: list[int] = []
        for index, answer in enumerate(lookup.answers):
            if answer is None:
                missing.append(index)
                continue
            sent = part.reps[index].get("__typename")
            for obj in part.targets[index]:
                merge_entity(obj, answer, sent)
        if not missing:
            return None
        return EntityPart(
            node,
            part.variables,
            [part.reps[i] for i in missing],
            [part.targets[i] for i in missing],
            part.data,
            Cached(lookup, part.reps, missing),
        )


async def _done() -> None:
    return None
