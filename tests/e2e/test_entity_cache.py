"""The entity cache over real servers: fixture subgraphs that send Cache-Control, Rugzak in front,
a real redis-server for sharing. What reaches the subgraphs is read from their request logs."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import jwt

from auth.dev_issuer import DevIssuer
from tests.e2e.stack import auth_env
from tests.federation.harness import start_fixture_subgraph
from tests.redis_server import Redis, redis_server
from tests.servers import Server, start_python_server
from tools.compose_supergraph import Subgraph, compose, fetch_sdl

HERE = Path(__file__).parent / "cache_subgraphs"
CACHE_CONTROL = {
    # its root fields lead to Person, guarded by @authenticated in records: cached per caller
    "people": ("max-age=60", ("Roster:all",)),
    "places": ("public, max-age=60", ()),
    "records": ("max-age=60", ()),  # type guarded by @authenticated: private
}
PLACES_QUERY = '{ person(id: "1") { name municipality { name } } }'
RECORD_QUERY = "{ people { id record } }"


@dataclass
class CacheStack:
    issuer: DevIssuer
    env: dict[str, str]
    subgraphs: dict[str, Server]
    supergraph: Path

    def gateway(self, *extra: str) -> Server:
        argv = ["-m", "gateway", "serve", "--supergraph", str(self.supergraph), *extra]
        return start_python_server(argv, "rugzak (cache)", self.env, probe="/health")

    def requests(self, name: str) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = httpx.get(self.subgraphs[name].url + "/__log").json()
        return log

    def clear(self) -> None:
        for server in self.subgraphs.values():
            httpx.delete(server.url + "/__log").raise_for_status()

    def token(self, who: str, *scopes: str) -> dict[str, str]:
        token = self.issuer.mint(subject=who, scopes=scopes)
        return {"authorization": f"Bearer {token}"}


def caller_of(request: dict[str, Any]) -> str:
    """The subject of the token the gateway minted for the subgraph's request."""
    token = request["headers"]["authorization"].split()[1]
    assert jwt.get_unverified_header(token)["typ"] == "rugzak-subgraph+jwt"
    subject: str = jwt.get_unverified_claims(token)["sub"]
    return subject


@pytest.fixture(scope="module")
def cache_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CacheStack]:
    tmp = tmp_path_factory.mktemp("entity-cache")
    issuer, env = auth_env(tmp)
    with ExitStack() as stack:
        servers = {}
        for name, (control, tags) in CACHE_CONTROL.items():
            server = start_fixture_subgraph(
                name, HERE / f"{name}.graphql", HERE / f"{name}.json", control, tags
            )
            stack.callback(server.stop)
            servers[name] = server
        subgraphs = [
            Subgraph(name, s.url + "/graphql", fetch_sdl(s.url + "/graphql"))
            for name, s in servers.items()
        ]
        supergraph = tmp / "supergraph.graphql"
        supergraph.write_text(compose(subgraphs))
        yield CacheStack(issuer, env, servers, supergraph)


@pytest.fixture
def gateway(cache_stack: CacheStack) -> Iterator[Server]:
    server = cache_stack.gateway()
    try:
        cache_stack.clear()
        yield server
    finally:
        server.stop()


def ask(gateway: Server, query: str, headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(gateway.url + "/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_public_entities_are_cached_and_shared(cache_stack: CacheStack, gateway: Server) -> None:
    first = ask(gateway, PLACES_QUERY)
    assert first == {"data": {"person": {"name": "Ann", "municipality": {"name": "Gent"}}}}
    assert len(cache_stack.requests("places")) == 1
    # another caller, the same public entity: no request to places
    assert ask(gateway, PLACES_QUERY, cache_stack.token("someone")) == first
    assert len(cache_stack.requests("places")) == 1


def test_root_answers_are_cached_per_caller_and_follow_declared_tags(
    cache_stack: CacheStack, gateway: Server
) -> None:
    query = '{ person(id: "2") { name } }'
    ann = cache_stack.token("ann")
    assert ask(gateway, query, ann) == {"data": {"person": {"name": "Bram"}}}
    assert ask(gateway, query, ann) == {"data": {"person": {"name": "Bram"}}}
    assert len(cache_stack.requests("people")) == 1
    ask(gateway, query, cache_stack.token("bram"))  # another caller: not Ann's entry
    assert len(cache_stack.requests("people")) == 2
    ask(gateway, query)
    ask(gateway, query)  # private data of anonymous callers is never cached
    assert len(cache_stack.requests("people")) == 4
    allowed = cache_stack.token("people-subgraph", "cache:invalidate")
    body = {"tags": ["Roster:all"]}  # the tag people declared in extensions.cacheTags
    assert httpx.post(gateway.url + "/cache/invalidate", json=body, headers=allowed).is_success
    ask(gateway, query, ann)
    assert len(cache_stack.requests("people")) == 5


def test_only_missing_entities_are_fetched(cache_stack: CacheStack, gateway: Server) -> None:
    ask(gateway, PLACES_QUERY)  # Gent is cached
    both = ask(gateway, "{ people { municipality { name } } }")
    assert both["data"]["people"] == [
        {"municipality": {"name": "Gent"}},
        {"municipality": {"name": "Antwerpen"}},
    ]
    last = cache_stack.requests("places")[-1]
    sent = [r for v in (last["variables"] or {}).values() if isinstance(v, list) for r in v]
    assert sent == [{"__typename": "Municipality", "nis": "11002"}]


def test_private_entities_are_served_only_to_who_fetched_them(
    cache_stack: CacheStack, gateway: Server
) -> None:
    ann, bram = cache_stack.token("ann"), cache_stack.token("bram")
    expected = {
        "people": [{"id": "1", "record": "Ann's file"}, {"id": "2", "record": "Bram's file"}]
    }
    assert ask(gateway, RECORD_QUERY, ann)["data"] == expected
    assert ask(gateway, RECORD_QUERY, ann)["data"] == expected
    log = cache_stack.requests("records")
    assert len(log) == 1  # Ann's second read came from her private entries
    assert ask(gateway, RECORD_QUERY, bram)["data"] == expected
    log = cache_stack.requests("records")
    assert len(log) == 2 and caller_of(log[1]) == "bram"
    # anonymous callers may not read record at all, and get nothing from anyone's entries
    anonymous = ask(gateway, RECORD_QUERY)
    assert [p["record"] for p in anonymous["data"]["people"]] == [None, None]
    assert len(cache_stack.requests("records")) == 2


def test_concurrent_callers_never_get_each_others_entries(
    cache_stack: CacheStack, gateway: Server
) -> None:
    callers = [cache_stack.token(f"caller-{i}") for i in range(8)]

    def read(headers: dict[str, str]) -> tuple[str, Any]:
        return headers["authorization"], ask(gateway, RECORD_QUERY, headers)

    subjects = {f"caller-{i}" for i in range(8)}

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, callers * 6))
    assert all("errors" not in body for _, body in results)
    # every request records saw carried the gateway's token for one caller, and each caller's
    # first read went to the subgraph: entries are never shared between callers
    seen = [caller_of(r) for r in cache_stack.requests("records")]
    assert set(seen) == subjects


def test_invalidation_needs_the_scope_and_makes_the_next_read_fresh(
    cache_stack: CacheStack, gateway: Server
) -> None:
    ask(gateway, PLACES_QUERY)
    ask(gateway, PLACES_QUERY)
    assert len(cache_stack.requests("places")) == 1
    url = gateway.url + "/cache/invalidate"
    body = {"entities": [{"__typename": "Municipality", "nis": "44021"}]}
    assert httpx.post(url, json=body).status_code == 403
    assert httpx.post(url, json=body, headers=cache_stack.token("x")).status_code == 403
    allowed = cache_stack.token("ticketing-subgraph", "cache:invalidate")
    bad = httpx.post(url, json={"tags": ["no-colon"]}, headers=allowed)
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    done = httpx.post(url, json=body, headers=allowed)
    assert done.status_code == 200 and done.json()["invalidated"] == 1
    ask(gateway, PLACES_QUERY)
    assert len(cache_stack.requests("places")) == 2
    monitoring = cache_stack.token("monitoring", "metrics:read")
    metrics = httpx.get(gateway.url + "/metrics", headers=monitoring).text
    assert 'rugzak_entity_cache_invalidations_total{type="Municipality"} 1.0' in metrics
    assert 'rugzak_entity_cache_hits_total{subgraph="places",type="Municipality"}' in metrics


def test_invalidation_from_the_command_line(cache_stack: CacheStack, gateway: Server) -> None:
    ask(gateway, PLACES_QUERY)
    before = len(cache_stack.requests("places"))
    ask(gateway, PLACES_QUERY)
    assert len(cache_stack.requests("places")) == before  # cached
    token = cache_stack.token("ops", "cache:invalidate")["authorization"].split()[1]
    base = [sys.executable, "-m", "gateway", "cache", "invalidate", "--gateway", gateway.url]
    done = subprocess.run(
        [*base, "--entity", "Municipality:nis=44021", "--token", token],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Municipality" in done.stdout
    ask(gateway, PLACES_QUERY)
    assert len(cache_stack.requests("places")) == before + 1  # fresh
    unscoped = cache_stack.token("x")["authorization"].split()[1]
    refused = subprocess.run(
        [*base, "--tag", "Municipality:44021", "--token", unscoped],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "FORBIDDEN" in refused.stderr
    bad = subprocess.run([*base, "--entity", "Municipality", "--token", token],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 2


@pytest.fixture
def redis() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


def test_replicas_share_entities_through_redis(cache_stack: CacheStack, redis: Redis) -> None:
    first = cache_stack.gateway("--cache", redis.url)
    second = cache_stack.gateway("--cache", redis.url)
    try:
        cache_stack.clear()
        answer = ask(first, PLACES_QUERY)
        assert ask(second, PLACES_QUERY) == answer
        assert len(cache_stack.requests("places")) == 1
        # an invalidation on one replica is seen by the other
        allowed = cache_stack.token("ticketing-subgraph", "cache:invalidate")
        body = {"tags": ["Municipality:44021"]}
        assert httpx.post(first.url + "/cache/invalidate", json=body, headers=allowed).is_success
        assert ask(second, PLACES_QUERY) == answer
        assert len(cache_stack.requests("places")) == 2
        redis.kill()
        for _ in range(3):  # without Redis: every answer still right, from the subgraphs
            assert ask(second, PLACES_QUERY) == answer
        assert len(cache_stack.requests("places")) == 5
    finally:
        first.stop()
        second.stop()
