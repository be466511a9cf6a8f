"""Rugzak's plans against the reference gateways': on every hand-written operation, Rugzak sends
no more subgraph requests than Hive Gateway (Rust planner) and Apollo Gateway, as counted by the
fixture subgraphs.

A reference is held to this only where its answer is Rugzak's: one that answers wrongly (see the
operation's .expected.json) may well get there in fewer requests, e.g. by leaving out a required
value. Apollo Gateway is compared under `make test-deep` (`--deep`) only, to keep `make test`'s
federation part short (it starts one Node.js process per set); it does not load every supergraph
(it refuses @context's link, for one): such sets are compared with Hive Gateway alone.

The totals are printed at the end of the test run (see `pytest_terminal_summary` in conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.federation.harness import (
    FederationPool,
    FixtureSet,
    ask_rugzak,
    comparable,
    hand_written_operations,
    rugzak_for,
)
from tests.federation.reports import FETCH_COUNTS
from tests.servers import Server

DEEP = os.environ.get("RUGZAK_DEEP") == "1"
# fixture sets whose supergraph Apollo Gateway does not start with
_NO_APOLLO: set[str] = set()


def subgraph_requests(fixtures: FixtureSet, send: Callable[[], Any]) -> tuple[int, Any]:
    """How many requests the fixture subgraphs received while `send()` ran, and its result."""
    fixtures.clear_request_logs()
    result = send()
    return sum(len(fixtures.request_log(name)) for name in fixtures.subgraphs), result


def references(pool: FederationPool, name: str) -> dict[str, Callable[[str], Any]]:
    """The reference gateways over fixture set `name`, by name."""
    found: dict[str, Callable[[str], Any]] = {"Hive Gateway": pool.hive(name).query}
    if DEEP and name not in _NO_APOLLO:
        try:
            found["Apollo Gateway"] = pool.apollo(name).query
        except RuntimeError:  # it exited at start: it cannot load this supergraph
            _NO_APOLLO.add(name)
    return found


@pytest.mark.parametrize(
    ("fixture_set", "path"), hand_written_operations(), ids=lambda v: getattr(v, "stem", v)
)
def test_no_more_subgraph_requests_than_the_references(
    fixture_set: str,
    path: Path,
    federation_pool: FederationPool,
    rugzak_pool: dict[str, Server],
) -> None:
    federation = federation_pool.get(fixture_set)
    rugzak = rugzak_for(rugzak_pool, federation, fixture_set)
    query = path.read_text()
    ours, answer = subgraph_requests(federation.fixtures, lambda: ask_rugzak(rugzak, query))
    compared = []
    for reference, ask in references(federation_pool, fixture_set).items():
        theirs, their_answer = subgraph_requests(federation.fixtures, partial(ask, query))
        if comparable(their_answer) != comparable(answer):
            continue  # a wrong answer is no measure of the requests a right one needs
        FETCH_COUNTS.append((reference, fixture_set, path.stem, ours, theirs))
        compared.append(reference)
        assert ours <= theirs, f"Rugzak sent {ours} subgraph requests, {reference} {theirs}"
    if not compared:
        pytest.skip("no reference gateway gives Rugzak's answer (see the .expected.json)")
