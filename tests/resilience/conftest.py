"""One world (subgraphs and fault proxy) and one report for the whole fault and soak suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resilience.harness import Report, World, make_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with make_world(tmp_path_factory.mktemp("resilience")) as w:
        yield w


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    r = Report()
    yield r
    if r.rows:
        print("\n" + r.table())
        for path in r.save(tmp_path_factory.mktemp("resilience-report")):
            print(f"figures: {path}")
