"""The scheduler: runs a query plan's fetches in dependency order, every fetch whose dependencies
are done at once, and the entity fetches of one wave to one subgraph as one request.

Below it, each job in a module of its own: root_fetch.py and entity_fetching.py make the fetches
(entity_parts.py the representations), entity_cache_layer.py answers from and stores into the
entity cache around the subgraph calls, subgraph_calls.py shares identical queries in flight and
applies resilience.py, and a transport (transport.py) carries the request: the HTTP client
(subgraph_client.py) in the gateway, memory_transport.py in unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from gateway.cache.entities import EntityCache
from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.entity_cache_layer import EntityCacheLayer
from gateway.execution.entity_fetching import EntityFetching
from gateway.execution.entity_parts import used_variables
from gateway.execution.resilience import Resilience
from gateway.execution.root_fetch import root_fetch
from gateway.execution.state import ExecutionState
from gateway.execution.subgraph_calls import SubgraphCalls
from gateway.execution.transport import SubgraphTimeouts, SubgraphTransport
from gateway.metrics import Metrics
from gateway.planning.plan import FetchNode, QueryPlan

__all__ = ["ExecutionState", "Executor"]


class Executor:
    def __init__(
        self,
        transport: SubgraphTransport,
        urls: Mapping[str, str],
        metrics: Metrics | None = None,
        entity_cache: EntityCache | None = None,
        resilience: Resilience | None = None,
        timeouts: SubgraphTimeouts | None = None,
    ) -> None:
        # breakers, caps, retries and the request deadline; shared by the executors of every
        # supergraph this gateway serves
        self.resilience = resilience or Resilience(metrics=metrics)
        self.urls = dict(urls)  # service name -> URL
        self.metrics = metrics
        self.entity_cache = entity_cache
        self.calls = SubgraphCalls(transport, self.resilience, timeouts or SubgraphTimeouts())
        self.layer = EntityCacheLayer(self.calls, entity_cache)
        self.entities = EntityFetching(self.layer, self.urls)

    async def execute(
        self,
        plan: QueryPlan,
        variables: Mapping[str, Any],
        headers: SubgraphHeaders,
        state: ExecutionState | None = None,
    ) -> ExecutionState:
        """Runs fetches in waves: every fetch whose dependencies are done starts at once, and
        entity fetches of one wave to the same subgraph share one request."""
        state = state or ExecutionState()
        if state.deadline is None:
            state.deadline = self.resilience.deadline()
        fetches = plan.fetches
        if len(fetches) == 1:
            await self._run_group([fetches[0]], variables, headers, state)
            return state
        waiting = {node.id: set(node.depends_on) for node in fetches}
        by_id = {node.id: node for node in fetches}
        running: dict[asyncio.Future[None], list[FetchNode]] = {}

        def start(ready: list[FetchNode]) -> None:
            for group in _groups(ready):
                task = asyncio.ensure_future(self._run_group(group, variables, headers, state))
                running[task] = group

        start([node for node in fetches if not node.depends_on])
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            finished = {node.id for task in done for node in running.pop(task)}
            for task in done:
                task.result()  # a bug of ours surfaces here rather than being lost
            ready = []
            for node_id, deps in waiting.items():
                if deps and deps & finished:
                    deps -= finished
                    if not deps:
                        ready.append(by_id[node_id])
            start(ready)
        return state

    async def _run_group(
        self,
        group: list[FetchNode],
        variables: Mapping[str, Any],
        headers: SubgraphHeaders,
        state: ExecutionState,
    ) -> None:
        if len(group) == 1 and group[0].representations is None:
            node = group[0]
            url = self.urls[node.service]
            await root_fetch(self.layer, url, node, used_variables(node, variables), headers, state)
            return
        parts = [part for node in group for part in self.entities.parts(node, variables, state)]
        parts = await self.layer.entity_parts_left(parts, state)
        await self.entities.fetch(parts, headers, state)


def _groups(ready: list[FetchNode]) -> list[list[FetchNode]]:
    """Ready fetches as requests: entity queries to one subgraph together, the rest alone."""
    groups: list[list[FetchNode]] = []
    shared: dict[str, list[FetchNode]] = {}
    for node in ready:
        if node.representations is None or node.operation_kind != "query":
            groups.append([node])
        elif node.service in shared:
            shared[node.service].append(node)
        else:
            shared[node.service] = [node]
            groups.append(shared[node.service])
    return groups
