"""Pytest fixtures for differential federation tests.

- `federation_pool` (session): a `FederationPool`; `pool.get(name)` -> `Federation` with
  `.fixtures` (`FixtureSet`: running subgraphs, `supergraph_path`, `supergraph_sdl`,
  `subgraph_url(sub)`, `request_log(sub)`, `clear_request_logs()`) and `.hive` (`HiveGateway`:
  `graphql_url`, `query(...)`, `post(...)`); `pool.fixture_set(name)` and `pool.hive(name)` give
  one part alone. Each set starts once per session and everything stops at the session's end.
- `products_federation` (session): `federation_pool.get("products")`.
- `rugzak_pool` (session): Rugzak gateways per set, see `harness.rugzak_for`.
- `hive_gateway_factory` (function): start extra Hive Gateways on any supergraph in one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.harness import Federation, FederationPool
from tests.federation.reports import fetch_count_summary, generated_summary
from tests.oracles.hive import hive_gateway_factory
from tests.servers import Server

__all__ = ["federation_pool", "hive_gateway_factory", "products_federation", "rugzak_pool"]


@pytest.fixture(scope="session")
def federation_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederationPool]:
    pool = FederationPool(tmp_path_factory.mktemp("federation"))
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def rugzak_pool(federation_pool: FederationPool) -> Iterator[dict[str, Server]]:
    """Rugzak gateways by fixture set name (see `harness.rugzak_for`), stopped at the end."""
    started: dict[str, Server] = {}
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="session")
def products_federation(federation_pool: FederationPool) -> Federation:
    return federation_pool.get("products")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = fetch_count_summary()
    if lines:
        terminalreporter.section("subgraph requests: Rugzak against the reference gateway")
        for line in lines:
            terminalreporter.write_line(line)
    generated = generated_summary()
    if generated:
        terminalreporter.section("generated operations: Rugzak against the reference gateway")
        for line in generated:
            terminalreporter.write_line(line)
