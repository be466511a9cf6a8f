"""Planning and execution together, without servers: a fixture set's subgraphs composed by our
composer, each answering in this process (tests/federation/fixture_subgraph.py) through the
in-memory transport (gateway/execution/memory_transport.py).

Every hand-written operation whose answer the Federation spec fixes (its .expected.json) must get
that answer; the entity cache's layer and the typed Cache-Control are checked on a small set."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from auth.principal import Principal
from gateway.cache.entities import CacheControl, EntityCache
from gateway.cache.store import cache_store
from gateway.composition.compose import SubgraphSource, compose
from gateway.execution.credentials import StaticHeaders
from gateway.execution.executor import ExecutionState, Executor
from gateway.execution.memory_transport import InMemoryTransport, Subgraph
from gateway.execution.shaping import Shaper, compile_shape
from gateway.operation import normalize, select_operation
from gateway.planning import Planner
from gateway.schema.supergraph import Supergraph, load_supergraph
from tests.federation.fixture_subgraph import FixtureSubgraph, load_fixture_dir
from tests.federation.harness import FIXTURES_DIR, comparable, hand_written_operations

SPEC_ANSWERS = [
    (name, path)
    for name, path in hand_written_operations()
    if path.with_suffix(".expected.json").exists()
]
ANN = Principal(subject="ann", insz="85671012385", issuer="idp", token="a")


@functools.cache
def fixture_set(name: str) -> tuple[Supergraph, dict[str, FixtureSubgraph]]:
    """The set's supergraph (subgraph URLs never dialled) and its subgraphs, in process."""
    found = load_fixture_dir(FIXTURES_DIR / name)
    subgraphs = {
        graph: FixtureSubgraph.from_files(sdl, data) for graph, (sdl, data) in found.items()
    }
    sources = [
        SubgraphSource(graph, f"http://127.0.0.1:9/{graph}", sdl.read_text())
        for graph, (sdl, _) in found.items()
    ]
    return load_supergraph(compose(sources)), subgraphs


def answering(subgraph: FixtureSubgraph) -> Subgraph:
    async def answer(request: dict[str, Any]) -> dict[str, Any]:
        return await subgraph.execute(request["query"], request.get("variables"))

    return answer


def transport_for(name: str, **cache_control: CacheControl) -> InMemoryTransport:
    _, subgraphs = fixture_set(name)
    by_service = {graph.lower(): answering(s) for graph, s in subgraphs.items()}
    return InMemoryTransport(by_service, {k.lower(): v for k, v in cache_control.items()})


async def run(
    supergraph: Supergraph, executor: Executor, query: str, state: ExecutionState | None = None
) -> tuple[dict[str, Any], ExecutionState]:
    """Plan, execute and shape, as the gateway does for a query without variables."""
    document = parse(query)
    op = normalize(supergraph.api_schema, document, select_operation(document, None), {})
    plan = Planner(supergraph).plan(op)
    state = await executor.execute(plan, {}, StaticHeaders({}), state)
    data = Shaper(state.errors, state.explained).shape(compile_shape(op), state.data)
    body: dict[str, Any] = {"data": data}
    if state.errors:
        body["errors"] = state.errors
    return body, state


def executor_for(supergraph: Supergraph, transport: InMemoryTransport, **options: Any) -> Executor:
    urls = {graph.name: graph.url for graph in supergraph.graphs.values()}
    return Executor(transport, urls, **options)


@pytest.mark.parametrize(("name", "path"), SPEC_ANSWERS, ids=lambda v: getattr(v, "stem", v))
def test_operations_get_the_answer_the_spec_gives(name: str, path: Path) -> None:
    supergraph, _ = fixture_set(name)
    transport = transport_for(name)
    body, state = asyncio.run(
        run(supergraph, executor_for(supergraph, transport), path.read_text())
    )
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    assert comparable(body) == expected["spec"], expected["why"]
    assert state.subgraph_calls == sum(len(r) for r in transport.received.values())


KEYS_QUERY = "{ permits { id region unpaidFines vehicle { vin make } } }"


def test_an_unreachable_subgraph_fails_only_its_own_fields() -> None:
    supergraph, _ = fixture_set("keys")
    every = transport_for("keys").subgraphs
    fines = next(g for g in every if "fine" in g)
    transport = InMemoryTransport({g: s for g, s in every.items() if g != fines})
    body, _ = asyncio.run(run(supergraph, executor_for(supergraph, transport), KEYS_QUERY))
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"SUBREQUEST_HTTP_ERROR"}
    assert all(fines in e["message"] for e in body["errors"])


def test_cache_control_travels_typed_and_the_entity_cache_answers_the_second_time() -> None:
    supergraph, _ = fixture_set("keys")
    hint = CacheControl(max_age=60)
    services = [graph.name for graph in supergraph.graphs.values()]
    transport = transport_for("keys", **dict.fromkeys(services, hint))
    cache = EntityCache(cache_store(None), supergraph)
    executor = executor_for(supergraph, transport, entity_cache=cache)

    async def twice() -> tuple[dict[str, Any], ExecutionState, dict[str, Any], ExecutionState]:
        first, one = await run(supergraph, executor, KEYS_QUERY, ExecutionState(principal=ANN))
        second, two = await run(supergraph, executor, KEYS_QUERY, ExecutionState(principal=ANN))
        return first, one, second, two

    first, one, second, two = asyncio.run(twice())
    assert "errors" not in first and second == first
    assert one.subgraph_calls > 0 and set(one.cache_hints) == {hint}
    assert two.subgraph_calls < one.subgraph_calls  # answered from the entity cache
    assert set(two.cache_hints) == {hint}
