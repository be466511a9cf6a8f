"""Two gateway processes on one real PostgreSQL: what is registered on one is served by the other
within seconds (LISTEN/NOTIFY, with polling behind it), under load; two registrations at the same
moment on the two replicas both go live (the head's compare-and-set makes the later one compose
again on top of the first)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.registry.harness import (
    BASE_ANSWER,
    BASE_QUERY,
    PARKING_ANSWER,
    PARKING_QUERY,
    Probe,
    SteadyLoad,
    World,
    graphql,
    make_world,
    registry_call,
    wait_until,
)
from tests.registry.postgres_server import Postgres, postgres_server
from tests.servers import Server

WASTE_QUERY = "{ wasteCollectionDays }"
BOTH_QUERY = "{ municipalities { name wasteCalendar parkingZones { id } } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world, stop = make_world(tmp_path_factory.mktemp("replicas"))
    try:
        yield world
    finally:
        stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as pg:
        yield pg


@pytest.fixture(scope="module")
def replicas(world: World, postgres: Postgres) -> Iterator[tuple[Server, Server]]:
    # started together: both find the registry empty and try to seed it; one does
    started: dict[str, Server] = {}

    def start(name: str) -> None:
        started[name] = world.start_gateway(postgres.url, name=name)

    threads = [threading.Thread(target=start, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert set(started) == {"a", "b"}
        yield started["a"], started["b"]
    finally:
        for server in started.values():
            server.stop()


def served(url: str, query: str) -> bool:
    return "errors" not in graphql(url, query)


def test_registered_on_one_replica_served_by_the_other(
    world: World, replicas: tuple[Server, Server]
) -> None:
    a, b = replicas
    for gateway in (a, b):
        status = world.status(gateway.url)
        assert status["supergraphVersion"] == 1 == status["servedVersion"], status
        assert status["backend"] == "postgresql"  # the kind: never a host, a path, a password
    gent = world.token("44021")
    seeded = registry_call(b.url, "GET", "/subgraphs/base/history", gent).json()
    assert [v["action"] for v in seeded["versions"]] == ["seed"]  # one replica seeded it

    with SteadyLoad(b.url, [Probe(BASE_QUERY, BASE_ANSWER)]) as load:
        time.sleep(0.3)
        response = registry_call(
            a.url,
            "POST",
            "/subgraphs/gent-parking",
            gent,
            {"url": world.subgraph_url("parking_v1")},
        )
        registered = time.monotonic()
        assert response.status_code == 200, response.text
        sent_at: list[float] = []  # when each probe of B was sent, after A answered

        def probe() -> bool:
            sent_at.append(time.monotonic() - registered)
            return served(b.url, PARKING_QUERY)

        wait_until(probe, timeout=10, step=0.005)
        assert graphql(b.url, PARKING_QUERY) == PARKING_ANSWER
        swap = world.status(b.url)["lastSwap"]
        assert swap["version"] == 2
        # B swapped this long after A committed (the commit's time in the registry, same clock)
        after_commit = swap["secondsAfterCommit"]
        print(
            f"\nreplica B swapped {after_commit * 1000:.0f} ms after A committed; the first "
            f"query to B that had it was sent {sent_at[-1] * 1000:.0f} ms after A answered "
            f"({len(sent_at)} probe(s))"
        )
        assert after_commit < 5.0
        load.add(Probe(PARKING_QUERY, PARKING_ANSWER))

        # the other way round, and history and refusals are the same on both replicas
        leuven = world.token("24062")
        response = registry_call(
            b.url, "POST", "/subgraphs/leuven-waste", leuven, {"url": world.subgraph_url("waste")}
        )
        assert response.status_code == 200, response.text
        wait_until(lambda: served(a.url, WASTE_QUERY), timeout=10)
        refused = registry_call(
            b.url,
            "POST",
            "/subgraphs/gent-parking",
            gent,
            {"url": world.subgraph_url("parking_v2")},
        )
        assert refused.status_code == 409 and refused.json()["code"] == "BREAKING_CHANGES"
        not_theirs = registry_call(
            a.url, "DELETE", "/subgraphs/gent-parking", leuven, {"force": True}
        )
        assert not_theirs.status_code == 403
        time.sleep(1.5)

    assert load.failures == [], load.failures[:5]
    assert load.sent > 20
    for gateway in (a, b):
        history = registry_call(gateway.url, "GET", "/subgraphs/gent-parking/history", gent)
        assert [v["action"] for v in history.json()["versions"]] == ["add"]
        assert world.status(gateway.url)["servedVersion"] == 3


def test_simultaneous_registrations_on_both_replicas_both_go_live(
    world: World, replicas: tuple[Server, Server]
) -> None:
    """Each replica changes a different subgraph at the same moment: the compare-and-set on the
    head lets one commit first; the other composes again on top of it, so neither is lost."""
    a, b = replicas
    gent, leuven = world.token("44021"), world.token("24062")
    answers: dict[str, httpx.Response] = {}
    barrier = threading.Barrier(2)

    def register(name: str, gateway: Server, path: str, token: str, body: dict[str, str]) -> None:
        barrier.wait()
        answers[name] = registry_call(gateway.url, "POST", path, token, body)

    before = world.status(a.url)["supergraphVersion"]
    jobs = [
        ("a", a, "/subgraphs/gent-parking", gent, {"url": world.subgraph_url("parking_v3")}),
        ("b", b, "/subgraphs/leuven-permits", leuven, {"url": world.subgraph_url("permits")}),
    ]
    threads = [threading.Thread(target=register, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers["a"].status_code == 200, answers["a"].text
    assert answers["b"].status_code == 200, answers["b"].text
    for gateway in (a, b):
        wait_until(lambda g=gateway: served(g.url, "{ parkingZones { capacity } }"), timeout=10)
        wait_until(lambda g=gateway: served(g.url, "{ buildingPermits }"), timeout=10)
        assert served(gateway.url, BOTH_QUERY)
        status = world.status(gateway.url)
        assert status["servedVersion"] == status["supergraphVersion"] == before + 2


def test_url_patterns_set_on_one_replica_hold_on_the_other(
    world: World, replicas: tuple[Server, Server]
) -> None:
    """Kept in PostgreSQL and read at each registration: no replica applies an old list. (These
    gateways allow http://127.0.0.1:* for everyone; `localhost` is another host to a pattern.)"""
    a, b = replicas
    admin = world.token(None, "registry:admin", subject="operator-admin")
    brugge = world.token("31005")
    url = world.subgraph_url("permits").replace("127.0.0.1", "localhost")
    refused = registry_call(b.url, "POST", "/check/brugge-permits", brugge, {"url": url})
    assert refused.status_code == 403 and refused.json()["code"] == "URL_NOT_ALLOWED"
    allowed = registry_call(
        a.url, "POST", "/url-patterns/31005", admin, {"allow": ["http://localhost:*"]}
    )
    assert allowed.status_code == 200 and allowed.json()["patterns"] == ["http://localhost:*"]
    # admitted: fetched and judged (it may clash with what the other tests registered)
    admitted = registry_call(b.url, "POST", "/check/brugge-permits", brugge, {"url": url})
    assert admitted.status_code in (200, 409), admitted.text
    assert "composeMs" in admitted.json() or admitted.json()["code"] == "COMPOSITION_FAILED"
    listed = registry_call(b.url, "GET", "/url-patterns", brugge).json()
    assert listed["organisations"] == {"31005": ["http://localhost:*"]}  # its own only
    cleared = registry_call(b.url, "POST", "/url-patterns/31005", admin, {"clear": True})
    assert cleared.json()["patterns"] == []
    again = registry_call(a.url, "POST", "/check/brugge-permits", brugge, {"url": url})
    assert again.json()["code"] == "URL_NOT_ALLOWED"
