"""The allow-list of persisted operations over real HTTP: a JSON list of hashes, and a directory
of .graphql files per client, with the client named by its token or by a header."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.stack import SUPERGRAPH, Stack, start_gateway
from tests.servers import ROOT, Server

GENT = '{ municipality(nisCode: "44021") { name } }'
ANTWERPEN = '{ municipality(nisCode: "11002") { name } }'
CLIENT = "apollographql-client-name"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(query)}}


def post(server: Server, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + "/graphql", json=body, headers=headers, timeout=30.0)


def code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


@pytest.fixture(scope="module")
def listed(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("allow-list") / "allow.json"
    path.write_text(json.dumps({"citizen-portal": [sha(GENT)], "staff-app": [sha(ANTWERPEN)]}))
    server = start_gateway(stack.env, stack.subgraph_urls(), "--persisted-allow-list", str(path))
    try:
        yield server
    finally:
        server.stop()


def test_a_client_runs_the_operations_on_its_list_only(listed: Server) -> None:
    portal = {CLIENT: "citizen-portal"}
    allowed = post(listed, {"query": GENT}, portal)
    assert allowed.status_code == 200 and allowed.json()["data"]["municipality"]["name"] == "Gent"
    other = post(listed, {"query": ANTWERPEN}, portal)
    assert other.status_code == 403 and code(other) == "PERSISTED_QUERY_NOT_IN_ALLOW_LIST"
    # the persisted query protocol: unknown hash, then registered, then by hash alone
    first = post(listed, {"extensions": persisted(GENT)}, portal)
    assert first.status_code == 200 and code(first) == "PERSISTED_QUERY_NOT_FOUND"
    assert post(listed, {"query": GENT, "extensions": persisted(GENT)}, portal).status_code == 200
    by_hash = post(listed, {"extensions": persisted(GENT)}, portal)
    assert by_hash.json() == allowed.json()
    # another client's operation by hash: refused before the gateway looks it up
    assert post(listed, {"extensions": persisted(ANTWERPEN)}, portal).status_code == 403
    # a listed hash with another query: the hash must be the query's
    body = {"query": ANTWERPEN, "extensions": persisted(GENT)}
    assert code(post(listed, body, portal)) == "PERSISTED_QUERY_HASH_MISMATCH"


def test_clients_without_a_list_are_refused(listed: Server) -> None:
    for headers in ({}, {CLIENT: "unknown-app"}):
        response = post(listed, {"query": GENT}, headers)
        assert response.status_code == 403
        assert code(response) == "PERSISTED_QUERY_NOT_IN_ALLOW_LIST"


def test_a_token_names_its_client_and_the_header_cannot_rename_it(
    stack: Stack, listed: Server
) -> None:
    staff = stack.issuer.mint(subject="staff-1", extra_claims={"azp": "staff-app"})
    headers = {"authorization": f"Bearer {staff}"}
    assert post(listed, {"query": ANTWERPEN}, headers).status_code == 200
    assert post(listed, {"query": GENT}, {**headers, CLIENT: "citizen-portal"}).status_code == 403
    # a token without a client id names no client, whatever the header says
    bare = {"authorization": f"Bearer {stack.issuer.mint(subject='someone')}"}
    assert post(listed, {"query": GENT}, {**bare, CLIENT: "citizen-portal"}).status_code == 403


def test_a_directory_of_operations_needs_no_registering(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("allow-dir")
    (root / "citizen-portal").mkdir()
    (root / "citizen-portal" / "gent.graphql").write_text(GENT + "\n")
    env = {**stack.env, "RUGZAK_PERSISTED_ALLOW_LIST": str(root)}
    env["RUGZAK_UNLISTED_CLIENTS"] = "allow"
    server = start_gateway(env, stack.subgraph_urls())
    try:
        portal = {CLIENT: "citizen-portal"}
        first = post(server, {"extensions": persisted(GENT)}, portal)
        assert first.status_code == 200 and first.json()["data"]["municipality"]["name"] == "Gent"
        assert post(server, {"query": ANTWERPEN}, portal).status_code == 403
        # clients without a list may run anything here
        assert post(server, {"query": ANTWERPEN}, {}).status_code == 200
        assert post(server, {"query": ANTWERPEN}, {CLIENT: "kiosk"}).status_code == 200
    finally:
        server.stop()


def test_a_malformed_list_stops_the_gateway_at_start(tmp_path: Path) -> None:
    path = tmp_path / "allow.json"
    path.write_text('{"citizen-portal": ["not-a-hash"]}')
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH),
            "--persisted-allow-list", str(path), "--port", "0"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "allow-list" in done.stderr
