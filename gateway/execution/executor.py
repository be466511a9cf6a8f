"""Runs a query plan: fetches in dependency order (in parallel where the plan allows), entity
representations from the merged tree, subgraph errors translated to client paths."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.errors import graphql_error
from gateway.execution.merge import Path, deep_merge, objects_at, representation
from gateway.execution.subgraph_client import SubgraphClient, SubgraphFailure
from gateway.planning.plan import FetchNode, QueryPlan


@dataclass(slots=True)
class ExecutionState:
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    subgraph_calls: int = 0
    # paths left null by a subgraph's own null propagation after one of its errors: the error
    # already explains them, so shaping must not add "Cannot return null" for them
    explained: list[list[Any]] = field(default_factory=list)


class Executor:
    def __init__(self, client: SubgraphClient, urls: Mapping[str, str]) -> None:
        self.client = client
        self.urls = dict(urls)  # service name -> URL

    async def execute(
        self,
        plan: QueryPlan,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        state: ExecutionState | None = None,
    ) -> ExecutionState:
        state = state or ExecutionState()
        fetches = plan.fetches
        if len(fetches) == 1:
            await self._run(fetches[0], variables, headers, state)
            return state
        tasks: dict[int, asyncio.Future[None]] = {}

        async def run(node: FetchNode) -> None:
            if node.depends_on:
                await asyncio.gather(*(tasks[d] for d in node.depends_on))
            await self._run(node, variables, headers, state)

        for node in fetches:
            tasks[node.id] = asyncio.ensure_future(run(node))
        await asyncio.gather(*tasks.values())
        return state

    async def _run(
        self,
        node: FetchNode,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        state: ExecutionState,
    ) -> None:
        payload_vars = {n: variables[n] for n in node.variable_names if n in variables}
        if node.representations is None:
            await self._root_fetch(node, payload_vars, headers, state)
        else:
            await self._entity_fetch(node, payload_vars, headers, state)

    async def _root_fetch(
        self,
        node: FetchNode,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        state: ExecutionState,
    ) -> None:
        state.subgraph_calls += 1
        result = await self.client.post(
            node.service, self.urls[node.service], _payload(node, variables), headers
        )
        if isinstance(result, SubgraphFailure):
            for keys in node.field_keys:
                state.errors.append(_failure_error(node, result, list(keys)))
            return
        data = result.get("data")
        if isinstance(data, dict):
            deep_merge(state.data, data)
        elif result.get("errors"):
            state.explained.extend(list(keys) for keys in node.field_keys)
        for error in result.get("errors") or ():
            state.errors.extend(_subgraph_errors(node, error, lambda p: [p]))

    async def _entity_fetch(
        self,
        node: FetchNode,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        state: ExecutionState,
    ) -> None:
        assert node.representations is not None
        reps: list[dict[str, Any]] = []
        targets: list[list[tuple[dict[str, Any], Path]]] = []
        seen: dict[bytes, int] = {}
        single_type = next(iter(node.representations)) if len(node.representations) == 1 else None
        for obj, path in objects_at(state.data, node.path):
            type_name = obj.get("__typename", single_type)
            if not isinstance(type_name, str):
                continue
            fields = node.representations.get(type_name)
            if fields is None:
                continue
            sent_as = node.representation_typenames.get(type_name, type_name)
            rep = representation(obj, sent_as, fields)
            if rep is None:
                continue
            ident = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
            index = seen.get(ident)
            if index is None:
                seen[ident] = len(reps)
                reps.append(rep)
                targets.append([(obj, path)])
            else:
                targets[index].append((obj, path))
        if not reps:
            return
        state.subgraph_calls += 1
        result = await self.client.post(
            node.service,
            self.urls[node.service],
            _payload(node, {"representations": reps, **variables}),
            headers,
        )
        if isinstance(result, SubgraphFailure):
            for group in targets:
                for _, path in group:
                    for keys in node.field_keys:
                        state.errors.append(_failure_error(node, result, [*path, *keys]))
            return
        data = result.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if not isinstance(entities, list):
            entities = []
        failed = bool(result.get("errors"))
        for index, group in enumerate(targets):
            entity = entities[index] if index < len(entities) else None
            if isinstance(entity, dict):
                for obj, _ in group:
                    deep_merge(obj, entity)
            elif failed:
                state.explained.extend(
                    [*path, *keys] for _, path in group for keys in node.field_keys
                )

        def translate(path: list[Any]) -> list[list[Any]]:
            entity = path[1] if len(path) >= 2 and path[0] == "_entities" else None
            if isinstance(entity, int) and entity < len(targets):
                return [[*p, *path[2:]] for _, p in targets[entity]]
            return []

        for error in result.get("errors") or ():
            state.errors.extend(_subgraph_errors(node, error, translate))


def _payload(node: FetchNode, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": node.document}
    if variables:
        payload["variables"] = variables
    return payload


def _failure_error(node: FetchNode, failure: SubgraphFailure, path: list[Any]) -> dict[str, Any]:
    return graphql_error(
        f"HTTP fetch failed from '{node.service}': {failure.reason}",
        failure.code,
        path=path,
        service=node.service,
    )


def _subgraph_errors(node: FetchNode, error: Any, translate: Any) -> list[dict[str, Any]]:
    """A subgraph error at the client's path(s): one copy per object a representation stood for."""
    if not isinstance(error, dict):
        return [graphql_error(str(error), "SUBREQUEST_MALFORMED_RESPONSE", service=node.service)]
    message = str(error.get("message", "subgraph error"))
    extensions = dict(error.get("extensions") or {})
    extensions.setdefault("service", node.service)
    path = error.get("path")
    paths = translate(path) if isinstance(path, list) else []
    if not paths:
        return [{"message": message, "extensions": extensions}]
    return [{"message": message, "path": p, "extensions": extensions} for p in paths]
