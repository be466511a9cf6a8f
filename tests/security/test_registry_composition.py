"""Composing a registry candidate never stalls the gateway (issue 13 finding 4, issue 14 point 4):
a heavy ~900 KB SDL composes in the worker process while other users' queries are answered; a
composition over the worker's CPU or memory limit is stopped with a clear error and the gateway
serves on. (A 5 MB SDL is refused for its size before anything: test_registry_fetch.py.)

How fast other users are answered meanwhile is measured in bench/registry_load.py, not here."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.registry.harness import (
    BASE_ANSWER,
    BASE_QUERY,
    Probe,
    SteadyLoad,
    World,
    graphql,
    make_world,
)
from tests.servers import Server, start_python_server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world, stop = make_world(tmp_path_factory.mktemp("compose"))
    try:
        yield world
    finally:
        stop()


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    server = start_python_server(
        ["-m", "tests.security.hostile_server"], "hostile server", probe="/stats"
    )
    try:
        yield server
    finally:
        server.stop()


def check(world: World, gateway: Server, url: str) -> dict[str, object]:
    answer = httpx.post(
        f"{gateway.url}/registry/check/heavy",
        json={"url": url},
        headers={"authorization": f"Bearer {world.token('44021')}"},
        timeout=600,  # a heavy composition on a busy machine
    )
    body: dict[str, object] = answer.json()
    body["status"] = answer.status_code
    return body


def test_a_heavy_sdl_composes_in_the_worker_while_others_are_served(
    world: World, hostile: Server
) -> None:
    gateway = world.start_gateway(f"sqlite:{world.tmp / 'heavy.sqlite3'}")
    try:
        with SteadyLoad(gateway.url, [Probe(BASE_QUERY, BASE_ANSWER)]) as load:
            answer = check(world, gateway, f"{hostile.url}/sdl?bytes=900000")
        assert answer["status"] == 200, answer
        assert answer["action"] == "add" and answer["breakingChanges"] == []
        # others were answered all along, each correctly and within SteadyLoad's bound
        assert load.sent > 0 and load.failures == [], load.failures[:3]
    finally:
        gateway.stop()


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--registry-compose-cpu", "1", "1 s of CPU time"),
        ("--registry-compose-memory", "60MB", "60 MB of memory"),
    ],
)
def test_a_composition_over_the_workers_limit_is_stopped(
    world: World, hostile: Server, flag: str, value: str, says: str
) -> None:
    gateway = world.start_gateway(f"sqlite:{world.tmp / f'limit{value}.sqlite3'}", flag, value)
    try:
        with SteadyLoad(gateway.url, [Probe(BASE_QUERY, BASE_ANSWER)]) as load:
            # some 4 s of CPU and 80 MB in the worker: over either limit
            refused = check(world, gateway, f"{hostile.url}/sdl?bytes=200000")
        assert refused["status"] == 422, refused
        assert refused["code"] == "COMPOSITION_LIMIT_EXCEEDED"
        assert says in str(refused["message"])
        assert load.failures == [], load.failures[:3]
        # the gateway serves on, and the next (small) candidate composes
        assert graphql(gateway.url, BASE_QUERY) == BASE_ANSWER
        small = check(world, gateway, f"{hostile.url}/sdl?bytes=3000")
        assert small["status"] == 200, small
    finally:
        gateway.stop()
