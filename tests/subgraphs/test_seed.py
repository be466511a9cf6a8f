"""Seeding: deterministic (identical stores from separate processes), fast, with showcase data."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from resolvers.allowances import seed as allowances_seed
from resolvers.common.municipalities import BY_NIS_CODE, MUNICIPALITIES, in_flanders
from resolvers.common.population import ANN_INSZ, BRAM_INSZ, population
from resolvers.common.sqlite import Store, create_store, stored_version
from resolvers.education import seed as education_seed
from resolvers.ticketing import seed as ticketing_seed
from tests.servers import ROOT

SEEDS: dict[str, tuple[Callable[[sqlite3.Connection], None], int]] = {
    "education": (education_seed.seed, education_seed.SEED_VERSION),
    "allowances": (allowances_seed.seed, allowances_seed.SEED_VERSION),
    "ticketing": (ticketing_seed.seed, ticketing_seed.SEED_VERSION),
}

_SEED_IN_SUBPROCESS = """
import sys
from pathlib import Path
from resolvers.common.sqlite import create_store
import resolvers.{name}.seed as module
create_store(Path(sys.argv[1]), module.seed, module.SEED_VERSION)
"""


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_two_fresh_stores_are_identical(name: str, tmp_path: Path) -> None:
    seed, version = SEEDS[name]
    here = tmp_path / "here" / f"{name}.sqlite3"
    started = time.perf_counter()
    create_store(here, seed, version)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"seeding {name} took {elapsed:.2f}s"
    # The other store comes from another process with another hash seed: nothing may depend
    # on set or dict iteration order that hashing could change.
    there = tmp_path / "there" / f"{name}.sqlite3"
    there.parent.mkdir()
    subprocess.run(
        [sys.executable, "-c", _SEED_IN_SUBPROCESS.format(name=name), str(there)],
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    first, second = dump(here), dump(there)
    assert len(first) > 1_000
    assert first == second


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_store_knows_the_whole_population(name: str, tmp_path: Path) -> None:
    seed, version = SEEDS[name]
    store = Store.open(tmp_path / f"{name}.sqlite3", seed, version=version)
    try:
        rows = store.session().fetch_all("SELECT insz, given_name, family_name FROM citizen")
    finally:
        store.close()
    expected = {(p.insz, p.given_name, p.family_name) for p in population()}
    assert {tuple(row) for row in rows} == expected
    assert len(expected) >= 1_002


def test_a_store_is_reseeded_only_when_missing_or_outdated(tmp_path: Path) -> None:
    path = tmp_path / "ticketing.sqlite3"
    seed, version = SEEDS["ticketing"]
    store = Store.open(path, seed, version=version, writable=True)
    session = store.session()
    session.execute("DELETE FROM ticket_update")
    store.close()
    assert stored_version(path) == version
    store = Store.open(path, seed, version=version, writable=True)
    assert store.session().fetch_one("SELECT count(*) FROM ticket_update")[0] == 0  # type: ignore[index]
    store.close()
    store = Store.open(path, seed, version=version + 1, writable=True)
    assert store.session().fetch_one("SELECT count(*) FROM ticket_update")[0] > 0  # type: ignore[index]
    store.close()
    assert stored_version(path) == version + 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_showcase_people_are_in_the_seeded_data(tmp_path: Path) -> None:
    stores = {
        name: Store.open(tmp_path / f"{name}.sqlite3", seed, version=version)
        for name, (seed, version) in SEEDS.items()
    }
    try:
        education = stores["education"].session()
        qualifications = education.fetch_all(
            "SELECT status FROM qualification WHERE insz = ?", (ANN_INSZ,)
        )
        assert len([q for q in qualifications if q[0] == "REGISTERED"]) >= 2
        bram = education.fetch_all(
            "SELECT vks_level FROM qualification WHERE insz = ?", (BRAM_INSZ,)
        )
        assert [tuple(row) for row in bram] == [(4,)]  # a secondary-school diploma
        allowances = stores["allowances"].session()
        assert (
            len(allowances.fetch_all("SELECT id FROM child_benefit WHERE insz = ?", (ANN_INSZ,)))
            == 1
        )
        grants = allowances.fetch_all(
            "SELECT status FROM study_grant_application WHERE insz = ? ORDER BY academic_year",
            (BRAM_INSZ,),
        )
        assert grants[-1][0] == "IN_PROCESSING"
        ticketing = stores["ticketing"].session()
        statuses = sorted(
            row[0]
            for row in ticketing.fetch_all(
                "SELECT status FROM ticket WHERE reporter_insz = ?", (ANN_INSZ,)
            )
        )
        assert statuses == ["RESOLVED", "SCHEDULED"]
        assert (
            len(ticketing.fetch_all("SELECT id FROM ticket WHERE reporter_insz = ?", (BRAM_INSZ,)))
            == 1
        )
        # every seeded ticket lies in Flanders, in the municipality it names
        for lat, lon, nis in ticketing.fetch_all(
            "SELECT latitude, longitude, nis_code FROM ticket"
        ):
            assert in_flanders(lat, lon)
            assert nis in BY_NIS_CODE
    finally:
        for store in stores.values():
            store.close()


def test_municipalities_include_the_big_four_and_more() -> None:
    assert {
        "44021": "Gent",
        "11002": "Antwerpen",
        "24062": "Leuven",
        "31005": "Brugge",
    }.items() <= {m.nis_code: m.name for m in MUNICIPALITIES}.items()
    assert len(MUNICIPALITIES) >= 30
    assert len({m.nis_code for m in MUNICIPALITIES}) == len(MUNICIPALITIES)
    for m in MUNICIPALITIES:
        assert in_flanders(m.latitude, m.longitude), m
        assert len(m.nis_code) == 5 and m.nis_code[0] in "12347", m
