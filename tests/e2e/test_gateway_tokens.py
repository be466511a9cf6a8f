"""The gateway's own keys over the wire: it publishes them, every gateway signing with the same
key directory is one gateway to the subgraphs, and a gateway with other keys or another issuer
id gets nothing from them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from auth.gateway_keys import GatewayKeys
from auth.principal import Principal
from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, Stack, start_gateway
from tests.servers import ROOT


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body["errors"]}


def test_the_gateway_publishes_its_keys_beside_the_dev_issuers(stack: Stack) -> None:
    published = httpx.get(stack.gateway.url + "/.well-known/gateway-jwks.json").json()
    keys = GatewayKeys.load_or_create(Path(stack.env["RUGZAK_GATEWAY_KEY_DIR"]))
    assert published == keys.jwks()
    assert all(set(k) == {"kty", "crv", "x", "y", "kid", "alg", "use"} for k in published["keys"])
    # the client issuer's JWKS path stays what it was (404: this gateway runs no dev issuer)
    assert httpx.get(stack.gateway.url + "/.well-known/jwks.json").status_code == 404


def test_another_gateway_on_the_same_keys_is_trusted(stack: Stack) -> None:
    with start_gateway(stack.env, stack.subgraph_urls()) as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"]["me"]["insz"] == ANN and "errors" not in body, body


def test_a_gateway_with_other_keys_reads_nothing(stack: Stack, tmp_path: Path) -> None:
    env = {**stack.env, "RUGZAK_GATEWAY_KEY_DIR": str(tmp_path / "other-keys")}
    with start_gateway(env, stack.subgraph_urls()) as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"] == {"me": None}
    assert codes(body) == {"INVALID_GATEWAY_TOKEN"}, body


def test_a_gateway_with_another_issuer_id_reads_nothing(stack: Stack) -> None:
    with start_gateway(stack.env, stack.subgraph_urls(), "--gateway-issuer", "x") as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"] == {"me": None}
    assert codes(body) == {"INVALID_GATEWAY_TOKEN"}, body


def test_a_gateway_trusting_its_own_issuer_still_refuses_its_tokens(
    stack: Stack, tmp_path: Path
) -> None:
    """Misconfigured: the gateway's own issuer id and keys listed as a client issuer."""
    keys_dir = Path(stack.env["RUGZAK_GATEWAY_KEY_DIR"])
    trusted = (
        '[{"issuer": "rugzak-gateway", "audience": "education", '
        f'"jwks_url": "{(keys_dir / "jwks.json").as_uri()}"}}]'
    )
    with start_gateway(stack.env, stack.subgraph_urls(), "--trusted-issuers", trusted) as gateway:
        token = stack.gateway_token("education", Principal(subject="s", insz=ANN, token="-"))
        response = httpx.post(
            gateway.url + "/graphql",
            json={"query": "{ me { insz } }"},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "WRONG_TOKEN_TYPE"


def rugzak(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_reads_the_sdl_without_credentials(stack: Stack, tmp_path: Path) -> None:
    sources = [f"{name}={url}" for name, url in stack.subgraph_urls().items()]
    out = tmp_path / "supergraph.graphql"
    composed = rugzak({}, "compose", *sources, "-o", str(out))
    assert composed.returncode == 0, composed.stderr
    assert "type Citizen" in out.read_text(encoding="utf-8")


def test_serve_refuses_a_guessable_invalidation_secret(tmp_path: Path) -> None:
    short = tmp_path / "secret"
    short.write_text("hunter2\n")
    for env, extra in (
        ({"RUGZAK_INVALIDATION_SECRET": "hunter2"}, ()),
        ({}, ("--invalidation-secret-file", str(short))),
    ):
        result = rugzak(env, "serve", "--supergraph", str(SUPERGRAPH), "--port", "1", *extra)
        assert result.returncode != 0
        assert "at least 32 bytes" in result.stderr and "Traceback" not in result.stderr


def test_gateway_keys_rotate_from_the_command_line(tmp_path: Path) -> None:
    env = {"RUGZAK_GATEWAY_KEY_DIR": str(tmp_path / "keys")}
    first = rugzak(env, "gateway-keys", "list")
    assert first.returncode == 0 and first.stdout.count("(signs)") == 1, first.stderr
    rotated = rugzak(env, "gateway-keys", "rotate")
    assert rotated.returncode == 0 and "new key" in rotated.stdout
    listed = rugzak(env, "gateway-keys", "list").stdout.splitlines()
    assert len(listed) == 2 and "(signs)" in listed[0]  # the new key waits 20 s
    assert len(list((tmp_path / "keys").glob("key-*.pem"))) == 2


def test_invalidation_keys_come_from_the_master_secret() -> None:
    from auth.invalidation_keys import derive_key

    master = "m" * 32
    result = rugzak({"RUGZAK_INVALIDATION_SECRET": master}, "invalidation-key", "ticketing")
    assert result.returncode == 0
    assert result.stdout.strip() == derive_key(master.encode(), "ticketing").decode()
    assert rugzak({"RUGZAK_INVALIDATION_SECRET": ""}, "invalidation-key", "x").returncode == 2
