"""Entity fetches: the representations of the objects at a fetch's path, sent to the subgraph as
`_entities` (several fetches to one subgraph in one request), the answers merged into every object
each representation stood for, and the subgraph's errors moved to the client's paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.execution.contexts import context_groups
from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.entity_cache_layer import EntityCacheLayer
from gateway.execution.entity_parts import (
    EntityPart,
    flat_representations,
    merge_entity,
    representations,
    used_variables,
)
from gateway.execution.merge import objects_at, rename_fields
from gateway.execution.state import ExecutionState
from gateway.execution.subgraph_calls import Call, graphql_payload
from gateway.execution.subgraph_errors import Translate, failure_error, subgraph_errors
from gateway.execution.transport import SubgraphFailure
from gateway.lru import LRU
from gateway.planning.plan import FetchNode


class EntityFetching:
    def __init__(self, layer: EntityCacheLayer, urls: Mapping[str, str]) -> None:
        self.layer = layer
        self.urls = urls
        # the shared request of a group of entity fetches, by their documents
        self.batched: LRU[tuple[str, ...], str] = LRU(1000, second_sight=True)

    def parts(
        self, node: FetchNode, variables: Mapping[str, Any], state: ExecutionState
    ) -> list[EntityPart]:
        """The distinct representations of the objects at the fetch's path (none: no part);
        two parts where someone else's entities may be asked only what is not bound to them."""
        assert node.representations is not None
        if node.context_bindings:  # one part per set of values taken from contexts
            return [
                part
                for sent, values, objects in context_groups(node, state.data)
                for part in _parts(sent, variables, values, objects, state)
            ]
        return _parts(node, variables, None, objects_at(state.data, node.path), state)

    async def fetch(
        self, parts: list[EntityPart], headers: SubgraphHeaders, state: ExecutionState
    ) -> None:
        """The parts (all to one subgraph) in one request."""
        if len(parts) == 1:
            await self._one(parts[0], headers, state)
        elif parts:
            await self._batched(parts, headers, state)

    async def _one(self, part: EntityPart, headers: SubgraphHeaders, state: ExecutionState) -> None:
        node = part.node
        payload = graphql_payload(node.document, {"representations": part.reps, **part.variables})
        call = Call(node.service, self.urls[node.service], payload, headers, state.deadline)
        result = await self.layer.call(call, state, node.selection)
        if isinstance(result, SubgraphFailure):
            _entity_failure(part, result, state)
            return
        data = result.body.get("data")
        errors = result.body.get("errors") or []
        entities = data.get("_entities") if isinstance(data, dict) else None
        if node.renames and isinstance(entities, list):
            rename_fields(entities, node.renames)
        saving = self.layer.save_entities(part, entities, errors, "_entities", result)
        _apply_entities(part, entities, state, bool(errors))
        for error in errors:
            state.errors.extend(subgraph_errors(node, error, _entity_paths(part, "_entities")))
        await saving

    async def _batched(
        self, parts: list[EntityPart], headers: SubgraphHeaders, state: ExecutionState
    ) -> None:
        """Several entity fetches to one subgraph in one request: `_entities` once per part,
        aliased `_e<i>`, each with its own representations variable `$r<i>`."""
        service = parts[0].node.service
        variables: dict[str, Any] = {}
        for index, part in enumerate(parts):
            variables.update(part.variables)
            variables[f"r{index}"] = part.reps
        document = self._batched_document([part.node for part in parts])
        payload = graphql_payload(document, variables)
        call = Call(service, self.urls[service], payload, headers, state.deadline)
        result = await self.layer.call(call, state, *(part.node.selection for part in parts))
        if isinstance(result, SubgraphFailure):
            for part in parts:
                _entity_failure(part, result, state)
            return
        data = result.body.get("data")
        errors = result.body.get("errors") or []
        for index, part in enumerate(parts):
            entities = data.get(f"_e{index}") if isinstance(data, dict) else None
            if part.node.renames and isinstance(entities, list):
                rename_fields(entities, part.node.renames)
            saving = self.layer.save_entities(part, entities, errors, f"_e{index}", result)
            _apply_entities(part, entities, state, bool(errors))
            await saving
        aliases = {f"_e{index}": part for index, part in enumerate(parts)}
        for error in errors:
            path = error.get("path") if isinstance(error, dict) else None
            alias = path[0] if isinstance(path, list) and path else None
            owner = aliases.get(alias) if isinstance(alias, str) else None
            part = owner or parts[0]
            translate = _entity_paths(part, alias if owner and alias else "")
            state.errors.extend(subgraph_errors(part.node, error, translate))

    def _batched_document(self, nodes: list[FetchNode]) -> str:
        key = tuple(node.document for node in nodes)
        document = self.batched.get(key)
        if document is None:
            definitions = [f"$r{i}:[_Any!]!" for i in range(len(nodes))]
            for node in nodes:
                definitions += [d for d in node.variable_defs if d not in definitions]
            fields = "".join(
                f"_e{i}:_entities(representations:$r{i}){{{node.selection}}}"
                for i, node in enumerate(nodes)
            )
            document = "query(" + ",".join(definitions) + "){" + fields + "}"
            self.batched.offer(key, document)
        return document


def _parts(
    node: FetchNode,
    variables: Mapping[str, Any],
    values: dict[str, Any] | None,
    objects: list[dict[str, Any]],
    state: ExecutionState,
) -> list[EntityPart]:
    reps: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    flat = node.flat_representation
    rest = objects if flat is None else flat_representations(node, flat, objects, reps, targets)
    if rest:
        representations(node, rest, reps, targets)
    if not reps:
        return []
    if state.ownership is None:
        return [
            EntityPart(node, used_variables(node, variables, values), reps, targets, state.data)
        ]
    return [
        EntityPart(
            sent, used_variables(sent, variables, values), sent_reps, sent_targets, state.data
        )
        for sent, sent_reps, sent_targets in state.ownership.screen(node, reps, targets)
    ]


def _apply_entities(part: EntityPart, entities: Any, state: ExecutionState, failed: bool) -> None:
    """Merges each answered entity into every object its representation stood for."""
    if not isinstance(entities, list):
        entities = []
    node = part.node
    for index, group in enumerate(part.targets):
        entity = entities[index] if index < len(entities) else None
        if isinstance(entity, dict):
            sent = part.reps[index].get("__typename")
            for obj in group:
                merge_entity(obj, entity, sent)
        elif failed:
            state.explained.extend(
                [*path, *keys] for path in part.paths(index) for keys in node.field_keys
            )


def _entity_failure(part: EntityPart, failure: SubgraphFailure, state: ExecutionState) -> None:
    for index in range(len(part.targets)):
        for path in part.paths(index):
            for keys in part.node.field_keys:
                state.errors.append(failure_error(part.node, failure, [*path, *keys]))


def _entity_paths(part: EntityPart, field: str) -> Translate:
    """Translates a subgraph error path under `field` (e.g. `_entities.3.name`) to client paths."""

    def translate(path: list[Any]) -> list[list[Any]]:
        entity = path[1] if len(path) >= 2 and path[0] == field else None
        if isinstance(entity, int) and entity < len(part.targets):
            return [[*p, *path[2:]] for p in part.paths(entity)]
        return []

    return translate
