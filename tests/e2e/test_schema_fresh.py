"""schema.graphql is the supergraph of what the reference subgraphs serve right now."""

from __future__ import annotations

from tests.e2e.stack import SUPERGRAPH, Stack
from tools.reference_supergraph import SUBGRAPHS, reference_supergraph


def test_schema_graphql_matches_the_running_subgraphs(stack: Stack) -> None:
    served = {
        name: stack.subgraph_post(name, "{ _service { sdl } }").json()["data"]["_service"]["sdl"]
        for name in stack.subgraphs
    }
    assert set(served) == set(SUBGRAPHS)
    assert SUPERGRAPH.read_text(encoding="utf-8") == reference_supergraph(served), (
        "schema.graphql is stale: run `make schema` and commit it"
    )
