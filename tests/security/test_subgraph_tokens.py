"""Finding 2 of the attack report: a registered subgraph received the citizen's own bearer token
(and could replay it at the gateway for her bank account), and every subgraph shared one secret
that let it call the others as the gateway.

Real servers over loopback: the three reference subgraphs, the gateway with a registry, and a
subgraph Gent registers as a municipality would (tests/registry/subgraph_server.py, which records
every request it is sent). Each test is one attack; it failed on the main branch of before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from auth.dev_issuer import DevIssuer
from auth.gateway_signature import SIGNATURE_HEADER, GatewaySigner
from auth.invalidation_keys import MASTER_ENV, derive_key
from gateway.http.app import GATEWAY_JWKS_PATH
from subgraphs.common.gateway_guard import JWKS_ENV
from tests.e2e.stack import (
    ANN,
    SUBGRAPHS,
    auth_env,
    start_gateway,
    subgraph_env_for,
)
from tests.servers import ROOT, Server, listening_socket, start_python_server, start_uvicorn

HERE = Path(__file__).parent
PERMITS = "{ gentParkingPermits { plate zone } }"
ANN_ASKS = "{ gentParkingPermits { plate } me { insz name { givenName } } }"
MINIMAL = {"iss", "aud", "iat", "exp"}
GENT = "44021"
# loopback is refused to registered subgraphs unless allowed: here everything is on loopback
ALLOW_LOOPBACK = ("--registry-allow-url", "http://127.0.0.1:*")


@dataclass
class World:
    issuer: DevIssuer
    env: dict[str, str]
    gateway: Server
    subgraphs: dict[str, Server]
    municipal: Server  # Gent's registered subgraph, recording what it is sent
    registry: str

    def ann(self) -> str:
        return self.issuer.mint(subject="opaque-ann", insz=ANN, acr="substantial")

    def admin(self) -> str:
        return self.issuer.mint(subject="operator-1", scopes=["registry:admin"])

    def gent(self) -> str:
        return self.issuer.mint(subject="ci-44021", scopes=["registry:write"], organisation=GENT)

    def ask(
        self, query: str, token: str | None, url: str | None = None, **headers: str
    ) -> httpx.Response:
        sent = {**headers}
        if token:
            sent["authorization"] = f"Bearer {token}"
        return httpx.post(
            (url or self.gateway.url) + "/graphql", json={"query": query}, headers=sent, timeout=30
        )

    def received(self) -> list[dict[str, Any]]:
        """What Gent's subgraph was sent, GraphQL requests other than the SDL read."""
        seen: list[dict[str, Any]] = httpx.get(
            self.municipal.url + "/gent_parking/received", timeout=10
        ).json()
        return [r for r in seen if "_service" not in r["body"]]

    def last_received(self, query: str, token: str | None, **headers: str) -> dict[str, Any]:
        before = len(self.received())
        response = self.ask(query, token, **headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["gentParkingPermits"], response.text
        after = self.received()
        assert len(after) == before + 1, "the gateway cached or skipped the call"
        return after[-1]

    def registry_cli(self, token: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "registry", *args, "--gateway", self.gateway.url],
            cwd=ROOT,
            env={**os.environ, "RUGZAK_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("security")
    issuer, client_env = auth_env(tmp)
    master = b"m" * 40
    env = {
        **client_env,
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(tmp / "gateway-keys"),
        MASTER_ENV: master.decode(),
    }
    registry = f"sqlite:{tmp / 'registry.sqlite3'}"
    with ExitStack() as stack:
        gateway_socket = listening_socket()
        stack.callback(gateway_socket.close)
        gateway_url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
        subgraphs = {}
        for name in SUBGRAPHS:
            server = start_uvicorn(
                f"subgraphs.{name}.app:app", name, subgraph_env_for(name, gateway_url, master, tmp)
            )
            stack.callback(server.stop)
            subgraphs[name] = server
        # Gent's subgraph checks the gateway's tokens against the keys the gateway publishes
        municipal = start_python_server(
            ["-m", "tests.registry.subgraph_server", "--dir", str(HERE / "subgraphs")],
            "Gent's subgraph",
            {JWKS_ENV: gateway_url + GATEWAY_JWKS_PATH},
        )
        stack.callback(municipal.stop)
        urls = {name: s.url + "/graphql" for name, s in subgraphs.items()}
        gateway = start_gateway(
            env, urls, "--registry", registry, *ALLOW_LOOPBACK, sock=gateway_socket
        )
        stack.callback(gateway.stop)
        world = World(issuer, env, gateway, subgraphs, municipal, registry)
        added = httpx.post(
            f"{gateway.url}/registry/subgraphs/gent-parking",
            json={"url": f"{municipal.url}/gent_parking/graphql"},
            headers={"authorization": f"Bearer {world.gent()}"},
            timeout=60,
        )
        assert added.status_code == 200, added.text
        assert added.json()["owner"] == GENT
        yield world


def test_a_registered_subgraph_never_sees_the_client_token(world: World) -> None:
    ann = world.ann()
    response = world.ask(ANN_ASKS, ann)
    assert response.json()["data"]["me"]["insz"] == ANN, response.text
    seen = world.received()
    assert seen, "Gent's subgraph was not asked"
    for request in seen:
        text = orjson.dumps(request).decode()
        assert ann not in text and ann.split(".")[1] not in text
        assert ANN not in text and "opaque-ann" not in text
        assert request["header"]["typ"] == "rugzak-subgraph+jwt"
        assert request["claims"]["aud"] == "gent-parking"
        assert request["claims"]["iss"] == "rugzak-gateway"
        assert 0 < request["claims"]["exp"] - request["claims"]["iat"] <= 30


def test_replaying_what_it_received_at_the_gateway_gets_401(world: World) -> None:
    received = world.last_received(PERMITS, world.ann())
    for query in ("{ me { insz childBenefits { bankAccount } } }", PERMITS):
        replay = httpx.post(
            world.gateway.url + "/graphql",
            json={"query": query},
            headers={"authorization": received["headers"]["authorization"]},
            timeout=30,
        )
        assert replay.status_code == 401, replay.text
        assert replay.json()["errors"][0]["extensions"]["code"] == "WRONG_TOKEN_TYPE"
        assert ANN not in replay.text and "BE" not in replay.text


def test_sending_it_to_another_subgraph_gets_401(world: World) -> None:
    received = world.last_received(PERMITS, world.ann())
    headers = {"authorization": received["headers"]["authorization"]}
    for name, server in world.subgraphs.items():
        for query in (f'{{ citizen(insz: "{ANN}") {{ insz }} }}', "{ __typename }"):
            response = httpx.post(
                server.url + "/graphql", json={"query": query}, headers=headers, timeout=30
            )
            assert response.status_code == 401, (name, response.text)
            error = response.json()["errors"][0]["extensions"]
            assert error == {"code": "INVALID_GATEWAY_TOKEN", "reason": "INVALID_AUDIENCE"}


def test_its_token_carries_only_the_minimal_claims(world: World) -> None:
    """Whoever asks: a citizen, a civil servant with scopes, roles, purpose and an app."""
    clerk = world.issuer.mint(
        subject="civil-servant-9", scopes=["tickets:read", "allowances:read"],
        roles=["staff"], organisation=GENT, acr="high", purpose="ticketing",
        client_id="loket-app",
    )  # fmt: skip
    for token in (world.ann(), clerk, None):
        received = world.last_received(PERMITS, token)
        assert set(received["claims"]) == MINIMAL, received["claims"]
    listed = world.registry_cli(world.admin(), "claims", "gent-parking")
    assert listed.returncode == 0, listed.stderr
    assert "no caller claims (the default)" in listed.stdout


def test_after_an_admin_grants_rrn_it_gets_rrn(world: World) -> None:
    refused = world.registry_cli(world.gent(), "claims", "gent-parking", "--grant", "rrn")
    assert refused.returncode == 1 and "registry:admin" in refused.stderr
    assert set(world.last_received(PERMITS, world.ann())["claims"]) == MINIMAL
    granted = world.registry_cli(world.admin(), "claims", "gent-parking", "--grant", "rrn")
    assert granted.returncode == 0, granted.stderr
    try:
        received = world.last_received(PERMITS, world.ann())
        assert received["claims"]["rrn"] == ANN
        assert set(received["claims"]) == MINIMAL | {"rrn"}
        shown = world.registry_cli(world.admin(), "show", "gent-parking", "--json")
        body = orjson.loads(shown.stdout)
        assert (body["claims"], body["claimsChangedBy"]) == (["rrn"], "operator-1")
        # every replica serving the same registry follows
        with start_gateway(
            world.env,
            {},
            "--registry",
            world.registry,
            *ALLOW_LOOPBACK,  # as every replica: its policy judges each connection to Gent's
            "--registry-poll-interval",
            "0.2",
        ) as replica:
            deadline = time.monotonic() + 10
            while True:
                before = len(world.received())
                world.ask(PERMITS, world.ann(), url=replica.url)
                claims = world.received()[before:][-1]["claims"]
                if claims.get("rrn") == ANN or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert claims.get("rrn") == ANN and "sub" not in claims
    finally:
        back = world.registry_cli(world.admin(), "claims", "gent-parking", "--default")
        assert back.returncode == 0, back.stderr
    assert set(world.last_received(PERMITS, world.ann())["claims"]) == MINIMAL


def test_grants_are_checked(world: World) -> None:
    url = f"{world.gateway.url}/registry/subgraphs/%s/claims"
    admin = {"authorization": f"Bearer {world.admin()}"}
    for name, body, status, code in (
        ("gent-parking", {"claims": ["rrn", "password"]}, 400, "BAD_REQUEST"),
        ("gent-parking", {"claims": "rrn"}, 400, "BAD_REQUEST"),
        ("gent-parking", {}, 400, "BAD_REQUEST"),
        ("nobody-here", {"claims": ["rrn"]}, 404, "NOT_FOUND"),
    ):
        response = httpx.put(url % name, json=body, headers=admin, timeout=30)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    anonymous = httpx.put(url % "gent-parking", json={"claims": ["rrn"]}, timeout=30)
    assert anonymous.status_code == 401


def test_the_purpose_travels_as_a_claim_and_headers_only_as_configured(world: World) -> None:
    clerk = world.issuer.mint(
        subject="civil-servant-9", roles=["staff"], organisation=GENT, acr="substantial"
    )
    sent = {"x-rugzak-purpose": "ticketing", "x-request-id": "req-42", "cookie": "session=s3cr3t"}
    received = world.last_received(PERMITS, clerk, **sent)
    assert not {"x-rugzak-purpose", "x-request-id", "cookie"} & set(received["headers"])
    world.registry_cli(world.admin(), "claims", "gent-parking", "--grant", "purpose")
    try:
        received = world.last_received(PERMITS, clerk, **sent)
        assert received["claims"]["purpose"] == "ticketing"
        assert "x-rugzak-purpose" not in received["headers"]
    finally:
        world.registry_cli(world.admin(), "claims", "gent-parking", "--default")
    with start_gateway(
        world.env, {}, "--registry", world.registry, *ALLOW_LOOPBACK,
        "--propagate-header", "gent-parking=X-Request-Id,traceparent",
    ) as configured:  # fmt: skip
        before = len(world.received())
        world.ask(PERMITS, clerk, url=configured.url, **sent)
        headers = world.received()[before:][-1]["headers"]
    assert headers["x-request-id"] == "req-42"
    assert "cookie" not in headers and "traceparent" not in headers


def test_credentials_are_never_propagated(world: World) -> None:
    for header in ("authorization", "Cookie", "x-rugzak-purpose"):
        result = subprocess.run(
            [sys.executable, "-m", "gateway", "serve", "--supergraph", str(ROOT / "schema.graphql"),
             "--port", "1", "--propagate-header", f"gent-parking={header}"],
            cwd=ROOT, env={**os.environ, **world.env}, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "never passed to a subgraph" in result.stderr and "Traceback" not in result.stderr


def test_no_subgraph_secret_lets_one_call_another(world: World) -> None:
    """What a subgraph holds (its invalidation key) opens no other subgraph, and invalidates
    only its own types."""
    ticketing_key = derive_key(world.env[MASTER_ENV].encode(), "ticketing")
    body = orjson.dumps({"query": f'{{ citizen(insz: "{ANN}") {{ insz }} }}'})
    headers = {"content-type": "application/json", "x-rugzak-subgraph": "ticketing"}
    headers[SIGNATURE_HEADER] = GatewaySigner(ticketing_key).sign("POST", "/graphql", body, headers)
    response = httpx.post(
        world.subgraphs["education"].url + "/graphql", content=body, headers=headers, timeout=30
    )
    assert response.status_code == 401 and ANN not in response.text
    # Gent, given an invalidation key of its own, may drop only what it resolves
    gent_key = derive_key(world.env[MASTER_ENV].encode(), "gent-parking")
    for tags, status in ((["ParkingPermit:1-ABC-123"], 200), ([f"Citizen:{ANN}"], 403)):
        payload = orjson.dumps({"tags": tags})
        sent = {"content-type": "application/json", "x-rugzak-subgraph": "gent-parking"}
        sent[SIGNATURE_HEADER] = GatewaySigner(gent_key).sign(
            "POST", "/cache/invalidate", payload, sent
        )
        answer = httpx.post(
            world.gateway.url + "/cache/invalidate", content=payload, headers=sent, timeout=30
        )
        assert answer.status_code == status, answer.text
