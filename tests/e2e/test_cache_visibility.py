"""What came from the cache, over the reference stack: `x-rugzak-cache` and
`extensions.cacheStatus` when configuration allows it (never by default), and /metrics per type.

The reference subgraphs say how long their answers may be kept (Cache-Control); the per-type
lifetimes below apply only to answers without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, BRAM, PROFILE_QUERY, Stack, start_gateway
from tests.e2e.test_mutations import GENT_TILE, REPORT
from tests.servers import Server

TTLS = ("--entity-ttl", "Query=300", "--entity-ttl", "Municipality=300")
SUBGRAPHS = ("allowances", "education", "ticketing")
ROOTS = {(name, "Query") for name in SUBGRAPHS}


@pytest.fixture(scope="module")
def visible(stack: Stack) -> Iterator[Server]:
    server = start_gateway(stack.env, stack.subgraph_urls(), *TTLS, "--expose-cache-status")
    try:
        yield server
    finally:
        server.stop()


def post(
    server: Server, stack: Stack, query: str, insz: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {"authorization": f"Bearer {stack.token(insz)}"} if insz else {}
    body = {"query": query, "variables": variables}
    response = httpx.post(server.url + "/graphql", json=body, headers=headers, timeout=30.0)
    assert response.status_code == 200, response.text
    return response


def fetches(response: httpx.Response) -> dict[tuple[str, str], dict[str, Any]]:
    status = response.json()["extensions"]["cacheStatus"]
    assert status["status"] == response.headers["x-rugzak-cache"]
    return {(f["subgraph"], f["type"]): f for f in status["fetches"]}


def metrics(stack: Stack, server: Server) -> dict[str, float]:
    headers = stack.metrics_headers()
    text = httpx.get(server.url + "/metrics", headers=headers, timeout=10.0).text
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("rugzak_")
    }


def test_a_profile_is_a_miss_then_a_hit_with_no_subgraph_request(
    stack: Stack, visible: Server
) -> None:
    cold = post(visible, stack, PROFILE_QUERY, ANN)
    assert cold.headers["x-rugzak-cache"] == "MISS"
    assert cold.headers["x-subgraph-requests"] == "4"
    first = fetches(cold)
    assert set(first) == {*ROOTS, ("ticketing", "Municipality")}
    assert all(f["hits"] == 0 and f["misses"] >= 1 for f in first.values())
    assert all(first[root]["misses"] == 1 for root in ROOTS)

    warm = post(visible, stack, PROFILE_QUERY, ANN)
    assert warm.headers["x-rugzak-cache"] == "HIT"
    assert warm.headers["x-subgraph-requests"] == "0"
    assert warm.json()["data"] == cold.json()["data"]
    second = fetches(warm)
    assert set(second) == set(first)
    assert all(f["misses"] == 0 and f["hits"] == first[k]["misses"] for k, f in second.items())


def test_partly_cached_is_partial(stack: Stack, visible: Server) -> None:
    post(visible, stack, PROFILE_QUERY, ANN)  # Ann's institutions' municipalities are cached
    mine = "{ me { qualifications(first: 1) { edges { node { institution { institutionNumber } "
    mine += "} } } } }"
    data = post(visible, stack, mine, ANN).json()["data"]
    number = data["me"]["qualifications"]["edges"][0]["node"]["institution"]["institutionNumber"]
    query = "query($n: ID!) { institution(institutionNumber: $n) { name municipality { name } } }"
    partial = post(visible, stack, query, n=number)
    assert partial.headers["x-rugzak-cache"] == "PARTIAL"
    assert fetches(partial) == {
        ("education", "Query"): {"subgraph": "education", "type": "Query", "hits": 0, "misses": 1},
        ("ticketing", "Municipality"): {
            "subgraph": "ticketing",
            "type": "Municipality",
            "hits": 1,
            "misses": 0,
        },
    }


def test_a_mutation_bypasses_the_cache(stack: Stack, visible: Server) -> None:
    # an invalid report: ticketing refuses it, nothing changes for the other tests
    bad = {**GENT_TILE, "description": "kort"}
    refused = post(visible, stack, REPORT, BRAM, input=bad)
    assert refused.headers["x-rugzak-cache"] == "BYPASS"
    assert refused.json()["extensions"]["cacheStatus"] == {"status": "BYPASS", "fetches": []}


def test_metrics_count_hits_and_misses_per_type_and_requests_per_subgraph(
    stack: Stack, visible: Server
) -> None:
    before = metrics(stack, visible)
    cold = post(visible, stack, PROFILE_QUERY, BRAM)
    post(visible, stack, PROFILE_QUERY, BRAM)
    after = metrics(stack, visible)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    for subgraph in SUBGRAPHS:
        labels = f'{{subgraph="{subgraph}",type="Query"}}'
        assert delta(f"rugzak_entity_cache_misses_total{labels}") == 1
        assert delta(f"rugzak_entity_cache_hits_total{labels}") == 1
    sent = sum(delta(f'rugzak_subgraph_requests_total{{subgraph="{s}"}}') for s in SUBGRAPHS)
    assert sent == int(cold.headers["x-subgraph-requests"])
    assert delta('rugzak_operation_cache_hits_total{cache="plan"}') >= 1
    assert after['rugzak_operation_cache_entries{cache="document"}'] >= 1


def test_off_by_default(stack: Stack) -> None:
    response = stack.query(PROFILE_QUERY, insz=ANN)
    assert "x-rugzak-cache" not in response.headers
    assert "extensions" not in response.json()


def test_switched_on_by_the_environment(stack: Stack) -> None:
    env = {**stack.env, "RUGZAK_EXPOSE_CACHE_STATUS": "1"}
    server = start_gateway(env, stack.subgraph_urls())
    try:
        query = '{ municipality(nisCode: "44021") { name } }'
        response = post(server, stack, query)
        assert response.headers["x-rugzak-cache"] == "MISS"
        # no lifetime configured, but ticketing's `public, max-age=86400` keeps it
        assert post(server, stack, query).headers["x-rugzak-cache"] == "HIT"
    finally:
        server.stop()
