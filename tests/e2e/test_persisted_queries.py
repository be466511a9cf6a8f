"""Automatic persisted queries over real HTTP, in memory and shared through a real redis-server
between two gateway processes; a dead Redis never fails a request; /metrics counts it all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import Stack, start_gateway
from tests.redis_server import Redis, redis_server
from tests.servers import Server

QUERY = '{ municipality(nisCode: "44021") { name } }'
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
ANSWER = {"data": {"municipality": {"name": "Gent"}}}


def persisted(digest: str = DIGEST, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body, timeout=30.0)


def metric(stack: Stack, gateway_url: str, name: str) -> float:
    text = httpx.get(gateway_url + "/metrics", headers=stack.metrics_headers(), timeout=10.0).text
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values)


def test_the_protocol_not_found_then_registered_then_by_hash(stack: Stack) -> None:
    query = '{ municipality(nisCode: "11002") { name } }'
    digest = hashlib.sha256(query.encode()).hexdigest()
    first = post(stack.graphql_url, {"extensions": persisted(digest)})
    assert first.status_code == 200
    assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    second = post(stack.graphql_url, {"query": query, "extensions": persisted(digest)})
    assert second.json() == {"data": {"municipality": {"name": "Antwerpen"}}}
    third = post(stack.graphql_url, {"extensions": persisted(digest)})
    assert third.json() == second.json()
    # GET carries extensions as a JSON query parameter
    params = {"extensions": json.dumps(persisted(digest))}
    got = httpx.get(stack.graphql_url, params=params, timeout=30.0)
    assert got.json() == second.json()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"query": QUERY, "extensions": persisted("0" * 64)}, 400,
         "PERSISTED_QUERY_HASH_MISMATCH"),
        ({"extensions": persisted(version=2)}, 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"extensions": persisted("abc")}, 400, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": "yes"}}, 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"extensions": "persistedQuery"}, 400, "BAD_REQUEST"),
        ({"extensions": {}}, 400, "BAD_REQUEST"),
    ],
    ids=["hash-mismatch", "version-2", "short-hash", "not-an-object", "extensions-string",
         "no-query-no-hash"],
)  # fmt: skip
def test_bad_persisted_query_requests(
    stack: Stack, body: dict[str, Any], status: int, code: str
) -> None:
    response = post(stack.graphql_url, body)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_metrics_count_requests_and_subgraph_calls(stack: Stack) -> None:
    before = metric(
        stack, stack.gateway.url, 'rugzak_subgraph_requests_total{subgraph="ticketing"}'
    )
    assert post(stack.graphql_url, {"query": QUERY}).json() == ANSWER
    after = metric(stack, stack.gateway.url, 'rugzak_subgraph_requests_total{subgraph="ticketing"}')
    assert after == before + 1
    assert metric(stack, stack.gateway.url, 'rugzak_requests_total{status="200"}') >= 1
    assert metric(stack, stack.gateway.url, "rugzak_cache_up") == 1


@pytest.fixture
def redis() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture
def two_gateways(stack: Stack, redis: Redis) -> Iterator[tuple[Server, Server]]:
    first = start_gateway(stack.env, stack.subgraph_urls(), "--cache", redis.url)
    try:
        second = start_gateway(stack.env, stack.subgraph_urls(), "--cache", redis.url)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def test_replicas_share_persisted_queries_through_redis(
    two_gateways: tuple[Server, Server],
) -> None:
    first, second = two_gateways
    registered = post(first.url + "/graphql", {"query": QUERY, "extensions": persisted()})
    assert registered.json() == ANSWER
    assert post(second.url + "/graphql", {"extensions": persisted()}).json() == ANSWER


def test_a_dead_redis_never_fails_a_request(
    stack: Stack, two_gateways: tuple[Server, Server], redis: Redis
) -> None:
    first, _ = two_gateways
    assert post(first.url + "/graphql", {"query": QUERY}).json() == ANSWER
    assert httpx.get(first.url + "/health", timeout=10).json()["cache"]["up"] is True
    redis.kill()
    for _ in range(3):  # plain queries, and registering a persisted query, still work
        assert post(first.url + "/graphql", {"query": QUERY}).json() == ANSWER
        body = {"query": QUERY, "extensions": persisted()}
        assert post(first.url + "/graphql", body).json() == ANSWER
    health = httpx.get(first.url + "/health", timeout=10).json()
    assert health["status"] == "degraded" and health["cache"]["up"] is False
    assert metric(stack, first.url, "rugzak_cache_up") == 0
    assert metric(stack, first.url, "rugzak_cache_errors") >= 1
