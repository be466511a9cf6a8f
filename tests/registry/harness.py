"""What the registry's end-to-end tests share: a development issuer the gateways trust, the
fixture subgraphs (the gateway's tokens only, read from the gateways' shared key directory), a
--supergraph file of the operator's base subgraph, gateways with a registry, and steady load whose
every answer is checked."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from gateway.composition import SubgraphSource, compose
from tests.servers import ROOT, Server, start_python_server

FIXTURES = Path(__file__).parent / "fixtures"
BASE_QUERY = "{ municipalities { name } }"
BASE_ANSWER = {"data": {"municipalities": [{"name": "Gent"}, {"name": "Leuven"}]}}
PARKING_QUERY = "{ parkingZones { id name } }"
PARKING_ANSWER = {
    "data": {
        "parkingZones": [{"id": "G1", "name": "Binnenstad"}, {"id": "G2", "name": "Gentbrugge"}]
    }
}


@dataclass
class World:
    tmp: Path
    issuer: DevIssuer
    env: dict[str, str]
    subgraphs: Server
    supergraph_file: Path

    def subgraph_url(self, name: str) -> str:
        return f"{self.subgraphs.url}/{name}/graphql"

    def token(self, org: str | None, *scopes: str, subject: str | None = None) -> str:
        return self.issuer.mint(
            subject=subject or f"ci-{org}",
            scopes=scopes or ("registry:write",),
            organisation=org,
        )

    def status(self, gateway_url: str) -> dict[str, Any]:
        """GET /registry (the registry's status) with a token that may read the registry."""
        response = registry_call(gateway_url, "GET", "", self.token(None, "registry:read"))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def start_gateway(
        self, registry: str, *extra: str, name: str = "gateway", allow_loopback: bool = True
    ) -> Server:
        # the fixture subgraphs are on loopback, which the registry refuses by default
        allow = ["--registry-allow-url", "http://127.0.0.1:*"] if allow_loopback else []
        argv = [
            "-m",
            "gateway",
            "serve",
            "--supergraph",
            str(self.supergraph_file),
            "--registry",
            registry,
            *allow,
            *extra,
        ]
        return start_python_server(argv, f"rugzak {name}", self.env, probe="/health")


def make_world(tmp: Path) -> tuple[World, Callable[[], None]]:
    issuer = DevIssuer.load_or_create(tmp / "issuer")
    jwks = tmp / "jwks.json"
    issuer.write_jwks(jwks)
    keys = tmp / "gateway-keys"
    GatewayKeys.load_or_create(keys)  # every gateway of the world signs with these
    env = {
        "RUGZAK_TRUSTED_ISSUER": issuer.issuer,
        "RUGZAK_AUDIENCE": issuer.audience,
        "RUGZAK_JWKS_URL": jwks.as_uri(),
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(keys),
    }
    subgraph_env = {"RUGZAK_GATEWAY_JWKS_URL": (keys / "jwks.json").as_uri()}
    subgraphs = start_python_server(
        ["-m", "tests.registry.subgraph_server", "--dir", str(FIXTURES)],
        "fixture subgraphs",
        subgraph_env,
    )
    base_sdl = (FIXTURES / "base.graphql").read_text()
    supergraph_file = tmp / "supergraph.graphql"
    base_url = f"{subgraphs.url}/base/graphql"
    supergraph_file.write_text(compose([SubgraphSource("base", base_url, base_sdl)]))
    return World(tmp, issuer, env, subgraphs, supergraph_file), subgraphs.stop


def graphql(url: str, query: str, timeout: float = 10.0) -> dict[str, Any]:
    response = httpx.post(url + "/graphql", json={"query": query}, timeout=timeout)
    body: dict[str, Any] = response.json()
    return body


def registry_call(
    gateway: str,
    method: str,
    path: str,
    token: str | None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.request(
        method, f"{gateway}/registry{path}", json=body, headers=headers, timeout=60.0
    )


def cli(gateway: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`rugzak registry ARGS --gateway URL --token TOKEN`, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", "registry", *args, "--gateway", gateway],
        cwd=ROOT,
        env={**os.environ, "RUGZAK_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, step: float = 0.02) -> float:
    """Seconds until `condition()` held; AssertionError after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


@dataclass
class Probe:
    query: str
    expected: dict[str, Any]


@dataclass
class SteadyLoad:
    """Queries one after another on a thread, each answer compared with what it must be: a
    failure, a wrong answer, or an answer slower than `max_seconds` is recorded."""

    url: str
    probes: list[Probe]
    max_seconds: float = 5.0
    sent: int = 0
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, probe: Probe) -> None:
        self.probes = [*self.probes, probe]

    def remove(self, query: str) -> None:
        self.probes = [p for p in self.probes if p.query != query]

    def _run(self) -> None:
        with httpx.Client(timeout=self.max_seconds * 2) as client:
            while not self._stop.is_set():
                for probe in self.probes:
                    started = time.monotonic()
                    try:
                        response = client.post(self.url + "/graphql", json={"query": probe.query})
                        body = response.json()
                    except (httpx.HTTPError, ValueError) as exc:
                        self.failures.append(f"{probe.query}: {exc!r}")
                        continue
                    finally:
                        self.sent += 1
                    took = time.monotonic() - started
                    self.slowest = max(self.slowest, took)
                    if response.status_code != 200 or body != probe.expected:
                        self.failures.append(f"{probe.query}: {response.status_code} {body}")
                    if took > self.max_seconds:
                        self.failures.append(f"{probe.query}: took {took:.1f} s")

    def __enter__(self) -> SteadyLoad:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "a request hung"
