"""Mutations through a gateway over the `mutations` fixture set, seen from the subgraphs' side.

The differential test compares answers, but a stateless fixture subgraph answers the same whether a
mutation ran once, twice or out of order. Here the subgraphs' request logs show what a gateway
sent: each mutation field exactly once, in a `mutation` operation, in the client's order within
each subgraph, and every entity fetch as a query. Each check runs against Rugzak and against the
reference gateway (Hive Gateway), so a check that the reference fails is a wrong check.

What the logs cannot show: the order of calls to *different* subgraphs (each fixture subgraph
keeps its own log, without timestamps), so "assignCrew ran after fileReport" is not checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast

from tests.federation.harness import FIXTURES_DIR, FederationPool, FixtureSet
from tests.servers import Server, start_python_server

SET = "mutations"
OPERATIONS = FIXTURES_DIR / SET / "operations"

Ask = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def fixtures(federation_pool: FederationPool) -> FixtureSet:
    return federation_pool.fixture_set(SET)


@pytest.fixture(scope="module")
def rugzak(fixtures: FixtureSet) -> Iterator[Server]:
    argv = ["-m", "gateway", "serve", "--supergraph", str(fixtures.supergraph_path)]
    server = start_python_server(argv, f"rugzak over {SET}", probe="/health")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["rugzak", "hive"])
def ask(request: pytest.FixtureRequest, federation_pool: FederationPool) -> Ask:
    if request.param == "hive":
        hive = federation_pool.hive(SET)
        return lambda query: hive.query(query)
    server: Server = request.getfixturevalue("rugzak")

    def ask_rugzak(query: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.post(
            server.url + "/graphql", json={"query": query}, timeout=30.0
        ).json()
        return body

    return ask_rugzak


def calls(fixtures: FixtureSet, subgraph: str) -> list[tuple[str, list[str]]]:
    """What a subgraph received: (operation type, its root fields printed with arguments).

    Arguments are printed in name order (gateways may reorder them).
    """
    out = []
    for entry in fixtures.request_log(subgraph):
        document = parse(entry["query"])
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        fields = [
            print_ast(
                FieldNode(
                    name=s.name,
                    arguments=tuple(sorted(s.arguments or (), key=lambda a: a.name.value)),
                )
            )
            for s in operation.selection_set.selections
            if isinstance(s, FieldNode)
        ]
        out.append((operation.operation.value, fields))
    return out


def mutations_sent(fixtures: FixtureSet, subgraph: str) -> list[str]:
    return [f for kind, fields in calls(fixtures, subgraph) if kind == "mutation" for f in fields]


def run(fixtures: FixtureSet, ask: Ask, operation: str) -> dict[str, Any]:
    fixtures.clear_request_logs()
    body = ask((OPERATIONS / operation).read_text())
    assert body.get("data") is not None, body
    return body


def test_alternating_mutations_each_sent_once_in_order(fixtures: FixtureSet, ask: Ask) -> None:
    run(fixtures, ask, "alternating_subgraphs.graphql")
    assert mutations_sent(fixtures, "reports") == [
        'fileReport(nis: "44021", title: "Losse tegel")',
        'closeReport(id: "r100")',
    ]
    assert mutations_sent(fixtures, "crews") == [
        'assignCrew(crewId: "k1", reportId: "r100")',
        'assignCrew(crewId: "k1", reportId: "r100-closed")',
    ]
    assert mutations_sent(fixtures, "municipalities") == []


def test_entity_fetches_after_mutations_are_queries(fixtures: FixtureSet, ask: Ask) -> None:
    run(fixtures, ask, "alternating_subgraphs.graphql")
    for subgraph in ("reports", "crews", "municipalities"):
        for kind, fields in calls(fixtures, subgraph):
            if kind != "mutation":
                assert kind == "query" and fields[0].startswith("_entities"), (subgraph, fields)
    # municipalities is asked for names, reports for the assigned report's title, crews for the
    # filed report's crew: each answer's other-subgraph fields came through entity fetches
    assert calls(fixtures, "municipalities"), "no entity fetch reached municipalities"


def test_same_mutation_twice_runs_twice(fixtures: FixtureSet, ask: Ask) -> None:
    run(fixtures, ask, "same_mutation_twice.graphql")
    assert mutations_sent(fixtures, "crews") == [
        'assignCrew(crewId: "k1", reportId: "r100")',
        'assignCrew(crewId: "k2", reportId: "r101")',
        'assignCrew(crewId: "k1", reportId: "nope")',
    ]
    assert mutations_sent(fixtures, "reports") == [
        'fileReport(nis: "11002", title: "Kapotte straatlamp")'
    ]


def test_failing_mutations_do_not_stop_the_rest(fixtures: FixtureSet, ask: Ask) -> None:
    body = run(fixtures, ask, "errors_between_mutations.graphql")
    assert body["data"]["after"] == {"id": "r100", "assignedCrew": {"name": "Wegenploeg Gent"}}
    assert mutations_sent(fixtures, "reports") == [
        'closeReport(id: "r666")',
        'closeReport(id: "r102")',
        'fileReport(nis: "44021", title: "Losse tegel")',
    ]
    assert mutations_sent(fixtures, "crews") == [
        'releaseCrew(crewId: "k1")',
        'releaseCrew(crewId: "k9")',
    ]
