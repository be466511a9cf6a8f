"""The gateway signs its subgraph requests with the secret it is given (env or file), and a
gateway holding another secret, or none, gets nothing from the reference subgraphs."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from auth.gateway_signature import SECRET_ENV
from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, Stack, start_gateway
from tests.servers import ROOT


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body["errors"]}


def without_secret(stack: Stack) -> dict[str, str]:
    return {k: v for k, v in stack.env.items() if k != SECRET_ENV}


def test_the_secret_may_come_from_a_file(stack: Stack, tmp_path: Path) -> None:
    """The first secret in the file signs; the ones after it only matter to verifiers."""
    secret_file = tmp_path / "subgraph-secret"
    secret_file.write_text(f"{stack.env[SECRET_ENV]}\n{secrets.token_urlsafe(32)}\n")
    extra = ("--subgraph-secret-file", str(secret_file))
    with start_gateway(without_secret(stack), stack.subgraph_urls(), *extra) as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"]["me"]["insz"] == ANN and "errors" not in body, body


def test_a_gateway_with_another_secret_reads_nothing(stack: Stack) -> None:
    env = {**stack.env, SECRET_ENV: secrets.token_urlsafe(32)}
    with start_gateway(env, stack.subgraph_urls()) as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"] == {"me": None}
    assert codes(body) == {"INVALID_GATEWAY_SIGNATURE"}, body


def test_a_gateway_without_a_secret_reads_nothing(stack: Stack) -> None:
    with start_gateway(without_secret(stack), stack.subgraph_urls()) as gateway:
        body = stack.query(PROFILE_QUERY, insz=ANN, url=gateway.url + "/graphql").json()
    assert body["data"] == {"me": None}
    assert codes(body) == {"GATEWAY_SIGNATURE_REQUIRED"}, body


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


def test_compose_reads_the_sdl_with_or_without_the_secret(stack: Stack, tmp_path: Path) -> None:
    """`{ _service { sdl } }` alone is the one request subgraphs answer without the gateway's
    credentials (subgraphs/common/service_sdl.py), so `rugzak compose` works either way."""
    sources = [f"{name}={url}" for name, url in stack.subgraph_urls().items()]
    for env in (stack.env, without_secret(stack)):
        out = tmp_path / "supergraph.graphql"
        composed = rugzak(env, "compose", *sources, "-o", str(out))
        assert composed.returncode == 0, composed.stderr
        assert "type Citizen" in out.read_text(encoding="utf-8")


def test_serve_refuses_a_guessable_secret(tmp_path: Path) -> None:
    short = tmp_path / "secret"
    short.write_text("hunter2\n")
    for env, extra in (
        ({SECRET_ENV: "hunter2"}, ()),
        ({}, ("--subgraph-secret-file", str(short))),
    ):
        result = rugzak(env, "serve", "--supergraph", str(SUPERGRAPH), "--port", "1", *extra)
        assert result.returncode != 0
        assert "at least 32 bytes" in result.stderr and "Traceback" not in result.stderr
