"""The planner's search (gateway/planning/costs.py) is bounded: a supergraph whose keys make a
long web of subgraphs, asked a large operation, gets QUERY_PLANNING_FAILED after MAX_STEPS
steps instead of planning on; a smaller one of the same shape plans, through the whole chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.errors import PlanningError
from gateway.operation import normalize, select_operation
from gateway.planning import Planner, QueryPlan, costs
from gateway.schema.supergraph import Supergraph, load_supergraph

# the directive definitions of a join v0.3 supergraph, from a composed one
REVIEWS = (Path(__file__).parent / "supergraph_reviews.graphql").read_text()
PREAMBLE = REVIEWS.split("enum join__Graph")[0]


def chained_supergraph(subgraphs: int) -> Supergraph:
    """Subgraph i knows Thing by key k<i> and also has k<i+1> and f<i>: reaching subgraph n
    from subgraph 0 takes a chain of n entity calls. Every subgraph has Thing.next."""
    graphs = "\n".join(
        f'  G{i} @join__graph(name: "g{i}", url: "http://127.0.0.1/g{i}")' for i in range(subgraphs)
    )
    types = " ".join(f'@join__type(graph: G{i}, key: "k{i}")' for i in range(subgraphs))
    fields = ["  next: Thing " + " ".join(f"@join__field(graph: G{i})" for i in range(subgraphs))]
    for i in range(subgraphs + 1):
        owners = [g for g in (i - 1, i) if 0 <= g < subgraphs]
        fields.append(f"  k{i}: ID " + " ".join(f"@join__field(graph: G{g})" for g in owners))
    for i in range(subgraphs):
        fields.append(f"  f{i}: Int @join__field(graph: G{i})")
    body = "\n".join(fields)
    sdl = (
        PREAMBLE
        + f"enum join__Graph {{\n{graphs}\n}}\n\n"
        + "type Query @join__type(graph: G0) {\n  thing: Thing @join__field(graph: G0)\n}\n\n"
        + f"type Thing {types} {{\n{body}\n}}\n"
    )
    return load_supergraph(sdl)


def deep_operation(subgraphs: int, depth: int) -> str:
    fields = " ".join(f"f{i}" for i in range(subgraphs))
    text = fields
    for _ in range(depth):
        text = f"{fields} next {{ {text} }}"
    return f"{{ thing {{ {text} }} }}"


def plan_of(sg: Supergraph, query: str) -> QueryPlan:
    document = parse(query)
    assert not validate(sg.api_schema, document)
    op = normalize(sg.api_schema, document, select_operation(document, None), {})
    return Planner(sg).plan(op)


def test_a_chain_of_keys_through_every_subgraph_plans() -> None:
    sg = chained_supergraph(6)
    plan = plan_of(sg, "{ thing { f5 } }")
    # g0 -> g1 -> ... -> g5: each entity call brings the key of the next
    assert [f.service for f in plan.fetches] == [f"g{i}" for i in range(6)]
    for before, after in zip(plan.fetches, plan.fetches[1:], strict=False):
        assert before.id in after.depends_on


def test_a_pathological_supergraph_is_refused_past_the_budget() -> None:
    sg = chained_supergraph(40)
    with pytest.raises(PlanningError) as refused:
        plan_of(sg, deep_operation(40, 8))
    assert refused.value.code == "QUERY_PLANNING_FAILED"
    assert f"after {costs.MAX_STEPS} search steps" in refused.value.message


def test_the_budget_counts_search_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    sg = chained_supergraph(8)
    query = deep_operation(8, 3)
    plan_of(sg, query)  # plans within the real budget
    monkeypatch.setattr(costs, "MAX_STEPS", 50)
    with pytest.raises(PlanningError, match="after 50 search steps"):
        plan_of(sg, query)
