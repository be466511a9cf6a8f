"""A fetch at the root of the operation (a query's or a mutation's fields): answered by the entity
cache when it can be, else by the subgraph, its data merged at the top of the response."""

from __future__ import annotations

from typing import Any

from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.entity_cache_layer import EntityCacheLayer
from gateway.execution.merge import deep_merge, rename_fields
from gateway.execution.state import ExecutionState
from gateway.execution.subgraph_calls import Call, graphql_payload
from gateway.execution.subgraph_errors import failure_error, subgraph_errors
from gateway.execution.transport import SubgraphFailure
from gateway.planning.plan import FetchNode


async def root_fetch(
    layer: EntityCacheLayer,
    url: str,
    node: FetchNode,
    variables: dict[str, Any],
    headers: SubgraphHeaders,
    state: ExecutionState,
) -> None:
    lookup = await layer.root_lookup(node, variables, state)
    if lookup is not None and lookup.answers[0] is not None:
        deep_merge(state.data, lookup.answers[0])
        return
    query = node.operation_kind == "query"
    payload = graphql_payload(node.document, variables)
    call = Call(node.service, url, payload, headers, state.deadline, shareable=query)
    result = await layer.call(call, state, node.document)
    if isinstance(result, SubgraphFailure):
        for keys in node.field_keys:
            state.errors.append(failure_error(node, result, list(keys)))
        return
    body = result.body
    data = body.get("data")
    if isinstance(data, dict):
        if node.renames:
            rename_fields([data], node.renames)
        if lookup is not None and not body.get("errors"):
            await layer.save_root(lookup, node, data, result)
        deep_merge(state.data, data)
    elif body.get("errors"):
        state.explained.extend(list(keys) for keys in node.field_keys)
    for error in body.get("errors") or ():
        state.errors.extend(subgraph_errors(node, error, lambda p: [p]))
