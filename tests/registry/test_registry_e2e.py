"""The registry end to end, on SQLite: under steady load, Gent registers its parking subgraph
(served at once), a breaking change is refused with a readable reason, another organisation is
refused, an allowed change and a forced one go live, a rollback restores the earlier version;
no request fails or hangs throughout. Then a restarted gateway serves the registry's supergraph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registry.harness import (
    BASE_ANSWER,
    BASE_QUERY,
    PARKING_ANSWER,
    PARKING_QUERY,
    Probe,
    SteadyLoad,
    World,
    cli,
    graphql,
    make_world,
    registry_call,
    wait_until,
)
from tests.servers import Server

TARIFF = "{ parkingZones { tariffCents } }"
CAPACITY = "{ parkingZones { capacity } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world, stop = make_world(tmp_path_factory.mktemp("registry"))
    try:
        yield world
    finally:
        stop()


@pytest.fixture(scope="module")
def gateway(world: World) -> Iterator[Server]:
    server = world.start_gateway(f"sqlite:{world.tmp / 'registry.sqlite3'}")
    try:
        yield server
    finally:
        server.stop()


def valid(url: str, query: str) -> bool:
    return "errors" not in graphql(url, query)


def test_registry_under_load(world: World, gateway: Server) -> None:
    url = gateway.url
    gent = world.token("44021")
    leuven = world.token("24062")
    status = world.status(url)
    assert status["supergraphVersion"] == 1 and status["servedVersion"] == 1  # seeded
    listed = registry_call(url, "GET", "/subgraphs", gent).json()
    assert [(s["name"], s["owner"]) for s in listed["subgraphs"]] == [("base", "operator")]
    assert registry_call(url, "GET", "/subgraphs", None).status_code == 401

    with SteadyLoad(url, [Probe(BASE_QUERY, BASE_ANSWER)]) as load:
        # a municipality's CI checks first: accepted, nothing goes live
        checked = cli(url, gent, "check", "gent-parking", "--url", world.subgraph_url("parking_v1"))
        assert checked.returncode == 0, checked.stderr
        assert "add would be accepted as version 1" in checked.stdout
        assert not valid(url, PARKING_QUERY)

        # registered with the CLI: served when the command returns
        added = cli(url, gent, "add", "gent-parking", "--url", world.subgraph_url("parking_v1"))
        assert added.returncode == 0, added.stderr
        assert "version 1 is live" in added.stdout and "owner 44021" in added.stdout
        assert wait_until(lambda: valid(url, PARKING_QUERY), timeout=5) < 1.0
        assert graphql(url, PARKING_QUERY) == PARKING_ANSWER
        load.add(Probe(PARKING_QUERY, PARKING_ANSWER))

        # a breaking change is refused, with what breaks and what to do
        refused = cli(url, gent, "add", "gent-parking", "--url", world.subgraph_url("parking_v2"))
        assert refused.returncode == 1
        assert "BREAKING_CHANGES" in refused.stderr
        assert "FIELD_REMOVED: Field ParkingZone.tariffCents was removed." in refused.stderr
        assert "to fix: keep the field" in refused.stderr
        assert "`--force` with `rugzak registry`" in refused.stderr  # the CLI's own flag
        assert valid(url, TARIFF) and not valid(url, CAPACITY)

        # another organisation may not touch it, nor take the operator's fields
        other = registry_call(
            url,
            "POST",
            "/subgraphs/gent-parking",
            leuven,
            {"url": world.subgraph_url("parking_v3")},
        )
        assert other.status_code == 403 and other.json()["code"] == "NOT_OWNER"
        takeover = registry_call(
            url, "POST", "/subgraphs/leuven", leuven, {"url": world.subgraph_url("takeover")}
        )
        assert takeover.status_code == 409
        body = takeover.json()
        assert body["code"] == "OWNERSHIP_VIOLATION"
        assert body["errors"][0]["coordinate"] == "Municipality.name"
        assert body["errors"][0]["subgraphs"] == ["leuven", "base"]
        # ... nor register for another organisation
        claim = registry_call(
            url,
            "POST",
            "/subgraphs/x",
            leuven,
            {"url": world.subgraph_url("waste"), "owner": "44021"},
        )
        assert claim.status_code == 403 and claim.json()["code"] == "NOT_OWNER"
        # a token without the scope
        scopeless = world.token("44021", "tickets:read")
        forbidden = registry_call(
            url,
            "POST",
            "/subgraphs/gent-parking",
            scopeless,
            {"url": world.subgraph_url("parking_v3")},
        )
        assert forbidden.status_code == 403 and forbidden.json()["code"] == "FORBIDDEN"

        # what does not compose is refused with the composer's codes, coordinates and fixes
        conflict = registry_call(
            url, "POST", "/subgraphs/gent-conflict", gent, {"url": world.subgraph_url("conflict")}
        )
        assert conflict.status_code == 409
        body = conflict.json()
        assert body["code"] == "COMPOSITION_FAILED"
        codes = {e["code"] for e in body["errors"]}
        assert "FIELD_TYPE_MISMATCH" in codes
        assert all(e["coordinate"] == "Municipality.name" and e["hint"] for e in body["errors"])
        unreachable = registry_call(
            url, "POST", "/subgraphs/gent-x", gent, {"url": world.subgraph_url("nope")}
        )
        assert unreachable.status_code == 400
        assert unreachable.json()["code"] == "SUBGRAPH_SDL_UNAVAILABLE"

        # an allowed change goes live; the same again changes nothing
        allowed = registry_call(
            url, "POST", "/subgraphs/gent-parking", gent, {"url": world.subgraph_url("parking_v3")}
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["version"] == 2 and allowed.json()["breakingChanges"] == []
        assert valid(url, CAPACITY) and valid(url, TARIFF)
        again = registry_call(
            url, "POST", "/subgraphs/gent-parking", gent, {"url": world.subgraph_url("parking_v3")}
        )
        assert again.status_code == 200 and again.json()["changed"] is False

        # a forced breaking change goes live, and says what it broke
        forced = cli(
            url, gent, "add", "gent-parking", "--url", world.subgraph_url("parking_v2"), "--force"
        )
        assert forced.returncode == 0, forced.stderr
        assert "version 3 is live" in forced.stdout
        assert "breaking (forced) FIELD_REMOVED" in forced.stdout
        assert not valid(url, TARIFF) and valid(url, CAPACITY)

        # rollback to version 2 restores it (tariffCents is back: nothing breaks)
        rolled = cli(url, gent, "rollback", "gent-parking", "--version", "2")
        assert rolled.returncode == 0, rolled.stderr
        assert "rollback done, version 4 is live" in rolled.stdout
        assert valid(url, TARIFF) and valid(url, CAPACITY)
        # to version 1 would drop capacity: refused unless forced
        back = registry_call(url, "POST", "/subgraphs/gent-parking/rollback", gent, {"version": 1})
        assert back.status_code == 409 and back.json()["code"] == "BREAKING_CHANGES"
        assert "ParkingZone.capacity" in back.json()["breakingChanges"][0]["description"]

        # removing it is a breaking change too
        removal = cli(url, gent, "remove", "gent-parking")
        assert removal.returncode == 1 and "BREAKING_CHANGES" in removal.stderr
        assert valid(url, PARKING_QUERY)

    assert load.failures == [], load.failures[:5]
    assert load.sent > 50, load.sent
    assert load.slowest < 5.0
    print(f"\nsteady load: {load.sent} requests, none failed, slowest {load.slowest * 1000:.0f} ms")

    history = cli(url, gent, "history", "gent-parking")
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].split()[:3] == ["VERSION", "ACTION", "WHO"]
    assert [line.split()[1] for line in lines[1:]] == ["add", "update", "update", "rollback"]
    assert "forced" in lines[3] and "restored v2" in lines[4]
    assert all("ci-44021" in line for line in lines[1:])
    shown = registry_call(url, "GET", "/subgraphs/gent-parking", gent).json()
    assert shown["currentVersion"] == 4 and shown["owner"] == "44021"
    assert "capacity: Int" in shown["sdl"] and "tariffCents" in shown["sdl"]
    v3 = registry_call(url, "GET", "/subgraphs/gent-parking/versions/3", gent).json()
    assert "tariffCents" not in v3["sdl"] and v3["forced"] is True
    listed_text = cli(url, gent, "list")
    assert listed_text.returncode == 0
    assert "gent-parking  44021" in listed_text.stdout


def test_a_restarted_gateway_serves_the_registry(world: World, gateway: Server) -> None:
    """The registry persists: a new gateway on the same file serves its newest supergraph at
    once, not the --supergraph file (which knows nothing of gent-parking). Two gateways on one
    SQLite file are replicas too: what one registers, the other serves after its next poll."""
    again = world.start_gateway(f"sqlite:{world.tmp / 'registry.sqlite3'}", name="restarted")
    try:
        assert valid(again.url, PARKING_QUERY)
        status = world.status(again.url)
        assert status["servedVersion"] == status["supergraphVersion"] >= 5
        leuven = world.token("24062")
        response = registry_call(
            gateway.url,
            "POST",
            "/subgraphs/leuven-waste",
            leuven,
            {"url": world.subgraph_url("waste")},
        )
        assert response.status_code == 200, response.text
        assert wait_until(lambda: valid(again.url, "{ wasteCollectionDays }"), timeout=10) < 5
        swap = world.status(again.url)["lastSwap"]
        assert swap["version"] == response.json()["supergraphVersion"]
        assert swap["secondsAfterCommit"] < 3.0  # a poll a second
    finally:
        again.stop()
