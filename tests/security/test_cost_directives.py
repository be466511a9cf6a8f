"""The cost estimate over real HTTP, from a supergraph that carries @cost and @listSize as
Apollo's supergraphs do: the reference supergraph, hand-annotated, served by a gateway over the
reference subgraphs. Over-cost operations are refused before any subgraph is asked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, SUPERGRAPH, Stack, reference_stack
from tests.servers import Server, start_python_server

COST_LINK = '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])'
DEFINITIONS = """
directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR

directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
"""  # noqa: E501


def annotated() -> str:
    """The reference supergraph with a cost link, its directives, and these annotations: the
    list of municipalities holds about 61, counting open tickets is expensive (25), and
    `first` sizes a citizen's qualifications connection."""
    sdl = SUPERGRAPH.read_text(encoding="utf-8")
    sdl = sdl.replace("schema @link(", f"schema {COST_LINK} @link(", 1) + DEFINITIONS
    municipalities = "municipalities: [Municipality!]! @join__field(graph: TICKETING)"
    sdl = sdl.replace(municipalities, municipalities + " @listSize(assumedSize: 61)")
    sdl = sdl.replace(
        "openTicketCount: Int! @join__field(graph: TICKETING)",
        "openTicketCount: Int! @join__field(graph: TICKETING) @cost(weight: 25)",
    )
    sdl, count = re.subn(
        r"(\): QualificationConnection @join__field\(graph: EDUCATION\))",
        r'\1 @listSize(slicingArguments: ["first"], sizedFields: ["edges"])',
        sdl,
    )
    assert count == 1 and sdl.count("@listSize(assumedSize: 61)") == 1
    return sdl


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with reference_stack(tmp_path_factory.mktemp("cost")) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    supergraph = tmp_path_factory.mktemp("supergraph") / "annotated.graphql"
    supergraph.write_text(annotated(), encoding="utf-8")
    argv = ["-m", "gateway", "serve", "--supergraph", str(supergraph), "--expose-cost"]
    for name, url in stack.subgraph_urls().items():
        argv += ["--subgraph-url", f"{name}={url}"]
    server = start_python_server(argv, "annotated gateway", stack.env, probe="/health")
    try:
        yield server
    finally:
        server.stop()


def post(
    gateway: Server, query: str, token: str | None = None, variables: dict[str, Any] | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    return httpx.post(gateway.url + "/graphql", json=body, headers=headers, timeout=60.0)


def subgraph_requests(stack: Stack, gateway: Server) -> float:
    text = httpx.get(gateway.url + "/metrics", headers=stack.metrics_headers(), timeout=10).text
    lines = [
        line for line in text.splitlines() if line.startswith("rugzak_subgraph_requests_total")
    ]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def test_list_sizes_and_weights_come_from_the_supergraph(gateway: Server) -> None:
    answered = post(gateway, "{ municipalities { name } }").json()
    assert len(answered["data"]["municipalities"]) == 61
    assert answered["extensions"]["cost"] == {"estimated": 61, "limit": 5000}
    # a municipality: 1, its open tickets 25
    counted = post(gateway, '{ municipality(nisCode: "44021") { openTicketCount } }').json()
    assert counted["extensions"]["cost"]["estimated"] == 26


def test_an_operation_over_its_cost_is_refused_before_any_subgraph_call(
    stack: Stack, gateway: Server
) -> None:
    one = "municipalities { name openTicketCount }"
    assert post(gateway, f"{{ {one} }}").json()["extensions"]["cost"]["estimated"] == 61 * 26
    before = subgraph_requests(stack, gateway)
    refused = post(gateway, "{ " + " ".join(f"m{i}: {one}" for i in range(4)) + " }")
    assert refused.status_code == 400
    body = refused.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED",
        "limit": 5000,
        "measured": 4 * 61 * 26,
    }
    assert body["extensions"]["cost"] == {"estimated": 4 * 61 * 26, "limit": 5000}
    assert subgraph_requests(stack, gateway) == before


def test_slicing_arguments_size_a_connection_from_the_request(
    gateway: Server, stack: Stack
) -> None:
    query = (
        "query($n: Int!) { me { qualifications(first: $n) "
        "{ totalCount edges { node { title } } } } }"
    )
    token = stack.token(ANN)
    # me 1 + the connection 1 + n edges, each 1 + its node 1
    for n in (2, 40):
        answered = post(gateway, query, token, {"n": n}).json()
        assert answered["extensions"]["cost"]["estimated"] == 2 + n * 2
        assert answered["data"]["me"]["qualifications"]["totalCount"] == 5
