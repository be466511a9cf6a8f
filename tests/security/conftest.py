"""The reference stack with a registry, and a subgraph registered as a municipality registers
one (organisation 44021, scope registry:write): tests/security/hostile_subgraph.py, which answers
whatever its script says."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.stack import Stack, reference_stack
from tests.registry.harness import wait_until
from tests.servers import Server, start_python_server

GENT = "44021"
PARKING = "gent-parking"


@dataclass
class HostileWorld:
    stack: Stack
    parking: Server

    def script(self, **script: Any) -> None:
        response = httpx.post(self.parking.url + "/control", json=script, timeout=10.0)
        response.raise_for_status()

    def received(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = httpx.get(self.parking.url + "/received").json()
        return answer


def register(stack: Stack, name: str, url: str, org: str = GENT) -> httpx.Response:
    token = stack.issuer.mint(subject=f"ci-{org}", scopes=["registry:write"], organisation=org)
    return httpx.post(
        f"{stack.gateway.url}/registry/subgraphs/{name}",
        json={"url": url},
        headers={"authorization": f"Bearer {token}"},
        timeout=60.0,
    )


@pytest.fixture(scope="package")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileWorld]:
    tmp = tmp_path_factory.mktemp("hostile")
    registry = f"sqlite:{tmp / 'registry.sqlite3'}"
    # the subgraphs listen on loopback, which the registry refuses unless allowed
    allow = ("--registry-allow-url", "http://127.0.0.1:*")
    with reference_stack(tmp, "--registry", registry, *allow) as stack:
        parking = start_python_server(
            ["-m", "tests.security.hostile_subgraph"], "gent parking", stack.env
        )
        try:
            response = register(stack, PARKING, parking.url + "/graphql")
            assert response.status_code in (200, 201), response.text

            def served() -> bool:
                body = stack.query('{ gentParkingHolder(plate: "1") { insz } }').json()
                return "errors" not in body or all(
                    e["extensions"]["code"] != "GRAPHQL_VALIDATION_FAILED" for e in body["errors"]
                )

            wait_until(served, timeout=30.0)
            yield HostileWorld(stack, parking)
        finally:
            parking.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The three reference subgraphs and a gateway with the default settings."""
    with reference_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
