"""Rugzak's plans against the reference gateway's: on every hand-written operation, Rugzak sends no
more subgraph requests than Hive Gateway (Rust planner), as counted by the fixture subgraphs.

The totals are printed at the end of the test run (see `pytest_terminal_summary` in conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.federation.harness import (
    FederationPool,
    FixtureSet,
    ask_rugzak,
    hand_written_operations,
    rugzak_for,
)
from tests.federation.reports import FETCH_COUNTS
from tests.servers import Server


def subgraph_requests(fixtures: FixtureSet, send: Callable[[], Any]) -> int:
    """How many requests the fixture subgraphs received while `send()` ran."""
    fixtures.clear_request_logs()
    send()
    return sum(len(fixtures.request_log(name)) for name in fixtures.subgraphs)


@pytest.mark.parametrize(
    ("fixture_set", "path"), hand_written_operations(), ids=lambda v: getattr(v, "stem", v)
)
def test_no_more_subgraph_requests_than_the_reference(
    fixture_set: str,
    path: Path,
    federation_pool: FederationPool,
    rugzak_pool: dict[str, Server],
) -> None:
    if path.with_suffix(".expected.json").exists():
        pytest.skip("the reference gateway answers this one wrongly (see its .expected.json)")
    federation = federation_pool.get(fixture_set)
    rugzak = rugzak_for(rugzak_pool, federation, fixture_set)
    query = path.read_text()
    theirs = subgraph_requests(federation.fixtures, lambda: federation.hive.query(query))
    ours = subgraph_requests(federation.fixtures, lambda: ask_rugzak(rugzak, query))
    FETCH_COUNTS.append((fixture_set, path.stem, ours, theirs))
    assert ours <= theirs, f"Rugzak sent {ours} subgraph requests, Hive Gateway {theirs}"
