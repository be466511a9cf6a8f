"""The reference gateway launcher (tests/oracles/hive.py) on a one-subgraph supergraph."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.federation.harness import FIXTURES_DIR, start_fixture_subgraph
from tests.oracles.hive import HiveGatewayFactory, hive_gateway, hive_version
from tests.servers import ROOT, Server
from tools.compose_supergraph import Subgraph, compose, fetch_sdl

PRODUCTS = FIXTURES_DIR / "products"


@pytest.fixture
def products_only(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    with start_fixture_subgraph(
        "products", PRODUCTS / "products.graphql", PRODUCTS / "products.json"
    ) as server:
        url = server.url + "/graphql"
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(compose([Subgraph("products", url, fetch_sdl(url))]))
        yield server, supergraph


def test_the_gateway_is_the_pinned_version() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert hive_version() == pinned["@graphql-hive/gateway"]


@pytest.mark.parametrize("router_runtime", [True, False], ids=["rust-planner", "js-planner"])
def test_answers_forwards_authorization_and_stops(
    products_only: tuple[Server, Path], router_runtime: bool
) -> None:
    subgraph, supergraph = products_only
    with hive_gateway(supergraph, router_runtime=router_runtime) as hive:
        host, port = hive.url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        body = hive.query(
            'query Q { product(upc: "2") { name price } }',
            headers={"Authorization": "Bearer token-123"},
        )
        assert body == {"data": {"product": {"name": "Couch", "price": 1299}}}
        anonymous = hive.query("{ topProducts { upc } }")
        assert anonymous == {"data": {"topProducts": [{"upc": "1"}, {"upc": "2"}, {"upc": "3"}]}}
        invalid = hive.query("{ nope }")
        assert invalid.get("data") is None
        assert "nope" in invalid["errors"][0]["message"]
        log = httpx.get(subgraph.url + "/__log").json()
        calls = [entry for entry in log if "_service" not in entry["query"]]
        assert [c["headers"].get("authorization") for c in calls] == ["Bearer token-123", None]
        assert hive.log_path.read_text().strip() == ""
    assert hive.server.proc.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(port))) != 0


def test_factory_fixture_stops_its_gateways(
    products_only: tuple[Server, Path], hive_gateway_factory: HiveGatewayFactory
) -> None:
    _, supergraph = products_only
    first = hive_gateway_factory(supergraph)
    second = hive_gateway_factory(supergraph, router_runtime=False)
    assert first.url != second.url
    for hive in (first, second):
        assert hive.query('{ product(upc: "1") { name } }') == {
            "data": {"product": {"name": "Table"}}
        }
