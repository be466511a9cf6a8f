"""Two properties of the planner over every subgraph set we have (tests/federation's fixture sets,
tests/composition's valid sets, the subgraph sets of tests/gateway), composed by the reference
composer, on operations generated from each API schema by hypothesis-graphql:

- a valid operation always plans: never QUERY_PLANNING_FAILED (the composer accepted the set, so
  every field a client can select is reachable by some sequence of fetches);
- every subgraph document of the plan is valid (graphql-core `validate`) against that subgraph's
  own schema: its SDL with the federation definitions a subgraph adds (`_entities`, `_Any`, ...).

In-process, no servers: planning and validation only (test_differential.py runs the answers).
Each set is planned with progressive-override labels off, and with all of them on; each
operation as drawn and dressed with aliases, fragments and type names (dressing.py).
"""

from __future__ import annotations

import os
import zlib
from functools import cache

import pytest
from graphql import (
    GraphQLScalarType,
    GraphQLSchema,
    StringValueNode,
    parse,
    specified_scalar_types,
    validate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from gateway.errors import GatewayError
from gateway.operation import normalize, select_operation
from gateway.planning import Planner
from gateway.schema.supergraph import Supergraph, load_supergraph
from tests.composition import reference_composer
from tests.composition.subgraph_sets import VALID_SETS, load_set
from tests.federation.dressing import dress
from tests.federation.fixture_subgraph import FixtureSubgraph

DEEP = os.environ.get("RUGZAK_DEEP") == "1"
PER_SET = 1000 if DEEP else 100


@cache
def composed() -> dict[str, tuple[Supergraph, dict[str, GraphQLSchema]]]:
    """set -> (supergraph, subgraph service name -> that subgraph's own schema)."""
    sets = {name: load_set(path) for name, path in VALID_SETS.items()}
    out: dict[str, tuple[Supergraph, dict[str, GraphQLSchema]]] = {}
    for name, result in reference_composer.compose_many(sets).items():
        sdl = result.get("supergraph")
        assert isinstance(sdl, str), (name, result.get("errors"))
        schemas = {s.name: subgraph_schema(s.sdl) for s in sets[name]}
        out[name] = (load_supergraph(sdl), schemas)
    return out


def subgraph_schema(sdl: str) -> GraphQLSchema:
    """The subgraph's own schema, taken as valid as its SDL is (some composition fixtures are
    lenient where graphql-core's schema validation is strict, e.g. on deprecations)."""
    return assume_valid(FixtureSubgraph(sdl, {}).schema)


@cache
def assume_valid(schema: GraphQLSchema) -> GraphQLSchema:
    return GraphQLSchema(**{**schema.to_kwargs(), "assume_valid": True})


def check_operation(
    supergraph: Supergraph,
    schemas: dict[str, GraphQLSchema],
    planner: Planner,
    query: str,
    labels: frozenset[str],
) -> None:
    """Plans `query` (valid against the API schema) and validates every subgraph document."""
    document = parse(query)
    assert not validate(assume_valid(supergraph.api_schema), document), query
    operation = select_operation(document, None)
    op = normalize(supergraph.api_schema, document, operation, {})
    try:
        plan = planner.plan(op, labels)
    except GatewayError as exc:
        pytest.fail(f"{exc.code}: {exc.message}\n{query}")
    for node in plan.fetches:
        errors = validate(schemas[node.service], parse(node.document))
        assert not errors, (node.service, node.document, [e.message for e in errors], query)


def as_strings(supergraph: Supergraph) -> dict[str, st.SearchStrategy[StringValueNode]]:
    """Arguments of custom scalars as short strings (planning never reads their values)."""
    return {
        name: st.text(alphabet="abc0123", max_size=4).map(nodes.String)
        for name, named in supergraph.api_schema.type_map.items()
        if isinstance(named, GraphQLScalarType)
        and name not in specified_scalar_types
        and not name.startswith("__")
    }


@pytest.mark.skipif(reference_composer.available() is not None, reason="no reference composer")
@pytest.mark.parametrize("subgraph_set", sorted(VALID_SETS))
def test_every_operation_plans_into_valid_subgraph_documents(subgraph_set: str) -> None:
    supergraph, schemas = composed()[subgraph_set]
    planner = Planner(supergraph)
    label_sets = [frozenset()]
    if supergraph.override_labels:
        label_sets.append(supergraph.override_labels)

    @settings(
        max_examples=PER_SET,
        derandomize=not DEEP,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=queries(supergraph.api_schema, custom_scalars=as_strings(supergraph)))
    def check(query: str) -> None:
        dressed = dress(query, supergraph.api_schema, seed=zlib.crc32(query.encode()))
        for labels in label_sets:
            check_operation(supergraph, schemas, planner, query, labels)
            check_operation(supergraph, schemas, planner, dressed, labels)

    check()
