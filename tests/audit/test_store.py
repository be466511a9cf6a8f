"""The access log's store: one hash chain, appended in batches, never a row twice; `rugzak audit
verify` names the row someone changed; a purge leaves the rest verifiable. SQLite files and a
real PostgreSQL (two writers on one database keep one chain)."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.audit.postgres_store import PostgresAuditBackend
from gateway.audit.sqlite_store import SqliteAuditBackend
from gateway.audit.store import AuditBackend
from tests.audit.entries import ANN, BRAM, entry
from tests.registry.postgres_server import Postgres, postgres_server
from tests.servers import ROOT

YEAR_US = 365 * 24 * 3600 * 1_000_000


def audit_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", *argv],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Iterator[SqliteAuditBackend]:
    backend = SqliteAuditBackend(tmp_path / "audit.sqlite3")
    yield backend
    backend.close()


def test_entries_chain_and_read_back_newest_first(sqlite_log: SqliteAuditBackend) -> None:
    first = [entry(ANN, at_us=1_000 + i) for i in range(3)]
    assert sqlite_log.append(first) == 3
    assert sqlite_log.append([entry(BRAM, at_us=2_000), entry(ANN, at_us=3_000)]) == 2
    page = sqlite_log.page(ANN, 10)
    assert [s.entry.at_us for s in page] == [3_000, 1_002, 1_001, 1_000]
    assert all(s.entry.subject == ANN for s in page)
    assert [s.entry for s in reversed(page[1:])] == first  # what went in comes out
    chain = sqlite_log.entries()
    assert [s.seq for s in chain] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    older = sqlite_log.page(ANN, 2, before_seq=page[1].seq)
    assert [s.entry.at_us for s in older] == [1_001, 1_000]
    assert [s.entry.at_us for s in sqlite_log.page(ANN, 10, since_us=1_001, until_us=3_000)] == [
        1_002,
        1_001,
    ]
    result = sqlite_log.verify()
    assert result.problems == () and result.checked == 5 and result.head_seq == 5


def test_an_entry_written_twice_is_stored_once(sqlite_log: SqliteAuditBackend) -> None:
    batch = [entry(), entry()]
    assert sqlite_log.append(batch) == 2
    assert sqlite_log.append([batch[1], entry(), batch[0]]) == 1  # a replay after a lost ack
    assert sqlite_log.count() == 3
    assert sqlite_log.verify().problems == ()


def test_verify_names_the_row_that_was_edited(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    backend = SqliteAuditBackend(path)
    backend.append([entry(ANN, at_us=i) for i in range(1, 8)])
    backend.close()
    assert audit_cli("verify", "--store", f"sqlite:{path}").returncode == 0
    with sqlite3.connect(path) as db:  # someone hides that a civil servant read Ann's data
        db.execute("UPDATE access_log SET purpose = 'education' WHERE seq = 4")
    done = audit_cli("verify", "--store", f"sqlite:{path}")
    assert done.returncode == 1, done.stdout + done.stderr
    named = [line for line in done.stdout.splitlines() if line.startswith("row ")]
    assert len(named) == 1 and named[0].startswith("row 4 "), done.stdout
    assert "BROKEN" in done.stdout


def test_verify_names_a_rewritten_row_whose_hash_was_recomputed(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    backend = SqliteAuditBackend(path)
    backend.append([entry(ANN, at_us=i) for i in range(1, 6)])
    row = backend.entries()[2]
    forged = dataclasses.replace(row.entry, outcome="denied")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE access_log SET outcome = 'denied', hash = ? WHERE seq = 3",
            (forged.chained(3, row.prev_hash),),
        )
    problems = backend.verify().problems
    backend.close()
    assert [p.seq for p in problems] == [4]  # the next row no longer follows it
    assert "row 4 does not follow" in problems[0].message


def test_verify_names_a_removed_row(sqlite_log: SqliteAuditBackend) -> None:
    sqlite_log.append([entry(ANN, at_us=i) for i in range(1, 6)])
    with sqlite3.connect(sqlite_log.path) as db:
        db.execute("DELETE FROM access_log WHERE seq = 2")
    problems = sqlite_log.verify().problems
    assert {p.seq for p in problems} == {3}
    assert any("rows 2 to 2 are missing" in p.message for p in problems)


def test_a_purge_keeps_the_rest_verifiable(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    backend = SqliteAuditBackend(path)
    now = 20 * YEAR_US
    old = [entry(ANN, at_us=now - 11 * YEAR_US + i) for i in range(4)]
    young = [entry(BRAM, at_us=now - YEAR_US + i) for i in range(3)]
    backend.append(old + young)
    assert backend.purge(now - 10 * YEAR_US) == 4
    assert backend.purge(now - 10 * YEAR_US) == 0  # nothing older left
    assert [s.seq for s in backend.entries()] == [5, 6, 7]
    result = backend.verify()
    assert result.problems == () and result.start_seq == 4 and result.checked == 3
    backend.append([entry(ANN, at_us=now)])  # the chain goes on from the rows left
    assert backend.entries()[-1].seq == 8
    backend.close()
    done = audit_cli("verify", "--store", f"sqlite:{path}")
    assert done.returncode == 0 and "from the checkpoint at row 4" in done.stdout, done.stdout
    with sqlite3.connect(path) as db:
        db.execute("UPDATE access_log SET fields = '[]' WHERE seq = 6")
    done = audit_cli("verify", "--store", f"sqlite:{path}")
    assert done.returncode == 1 and "row 6 " in done.stdout


def test_purge_everything_then_go_on(sqlite_log: SqliteAuditBackend) -> None:
    sqlite_log.append([entry(at_us=i) for i in range(1, 4)])
    assert sqlite_log.purge(10) == 3
    sqlite_log.append([entry(at_us=20)])
    assert [s.seq for s in sqlite_log.entries()] == [4]
    assert sqlite_log.verify().problems == ()


def test_the_purge_command_uses_the_retention(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    backend = SqliteAuditBackend(path)
    backend.append([entry(at_us=1_000_000), entry(at_us=2**62)])  # 1970, and far ahead
    backend.close()
    done = audit_cli("purge", "--store", f"sqlite:{path}")
    assert done.returncode == 0 and "1 entries older than 3653 days purged" in done.stdout
    assert audit_cli("verify", "--store", f"sqlite:{path}").returncode == 0
    assert audit_cli("verify", "--store", "mysql://nope").returncode == 2


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as pg:
        yield pg


def test_two_writers_on_one_postgresql_keep_one_chain(postgres: Postgres) -> None:
    writers = [PostgresAuditBackend(postgres.url) for _ in range(2)]
    ids: list[list[str]] = [[], []]

    def write(n: int, backend: AuditBackend) -> None:
        for _ in range(30):
            batch = [entry(ANN if n else BRAM) for _ in range(5)]
            ids[n] += [e.entry_id for e in batch]
            backend.append(batch)

    threads = [threading.Thread(target=write, args=(n, b)) for n, b in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader = PostgresAuditBackend(postgres.url)
    chain = reader.entries(limit=1000)
    assert [s.seq for s in chain] == list(range(1, 301))
    assert sorted(s.entry.entry_id for s in chain) == sorted(ids[0] + ids[1])
    assert reader.verify().problems == ()
    assert writers[0].append([chain[0].entry]) == 0  # stored already: not again
    done = audit_cli("verify", "--store", postgres.url)
    assert done.returncode == 0 and "300 entries checked" in done.stdout, done.stdout
    for backend in (*writers, reader):
        backend.close()
