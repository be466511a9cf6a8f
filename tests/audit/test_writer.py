"""The access log's writer: batches to the store; a store that goes away sends entries to the
local spool, replayed when it is back (nothing lost, nothing twice); a spool left by a process
that died is replayed by the next; and while nothing can record, staff reads are refused.

A real PostgreSQL that the tests stop and start, real files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from auth.principal import Principal
from gateway.audit.log import AccessLog
from gateway.audit.postgres_store import PostgresAuditBackend
from gateway.audit.settings import AccessLogSettings
from tests.audit.entries import entry
from tests.resilience.harness import PgCluster

STAFF = Principal(subject="civil-servant-1", roles=frozenset({"staff"}), token="t")
CITIZEN = Principal(subject="citizen-1", insz="85671012385", token="t")


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def settings(store: str, spool: Path, **extra: object) -> AccessLogSettings:
    values: dict[str, object] = {
        "store": store,
        "spool_dir": spool,
        "retry_interval": 0.2,
        "linger": 0.01,
        "batch_size": 16,
        "retention_days": 0,
    }
    values.update(extra)
    return AccessLogSettings(**values)  # type: ignore[arg-type]


async def until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


def metric(registry: CollectorRegistry, name: str) -> float:
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def fresh_database(pg: PgCluster) -> PostgresAuditBackend:
    backend = PostgresAuditBackend(pg.url)
    with backend.transaction() as cur:
        cur.execute("DROP TABLE IF EXISTS access_log, access_log_checkpoints")
    backend.close()
    return PostgresAuditBackend(pg.url)


async def test_store_down_then_back_nothing_lost_nothing_twice(
    pg: PgCluster, tmp_path: Path
) -> None:
    reader = fresh_database(pg)
    registry = CollectorRegistry()
    log = AccessLog(settings(pg.url, tmp_path / "spool"), registry)
    await log.start()
    sent = [entry() for _ in range(40)]
    await log.enqueue(sent[:20])
    await until(lambda: log.backlog == 0 and reader.count() == 20)
    pg.stop()
    try:
        await log.enqueue(sent[20:])
        await until(lambda: log.spool.pending == 20)
        assert not log.store_up and log.recording
        assert metric(registry, "rugzak_access_log_backlog") == 20
        assert metric(registry, "rugzak_access_log_store_up") == 0
        assert not log.refuses(STAFF)  # the spool records them
    finally:
        pg.start()
    await until(lambda: log.backlog == 0, timeout=60)
    assert log.store_up and metric(registry, "rugzak_access_log_backlog") == 0
    await log.stop()
    reader.close()
    reader = PostgresAuditBackend(pg.url)  # its connection went with the server
    stored = reader.entries(limit=1000)
    assert sorted(s.entry.entry_id for s in stored) == sorted(e.entry_id for e in sent)
    assert reader.verify().problems == ()
    assert list(Path(tmp_path / "spool").glob("*.jsonl")) == []  # emptied and removed
    reader.close()


async def test_a_dead_process_spool_is_replayed_by_the_next(pg: PgCluster, tmp_path: Path) -> None:
    reader = fresh_database(pg)
    spool = tmp_path / "spool"
    first = AccessLog(settings("postgresql://rugzak@127.0.0.1:1/postgres", spool))
    await first.start()
    assert not first.store_up
    sent = [entry() for _ in range(25)]
    await first.enqueue(sent)
    await until(lambda: first.spool.pending == 25)
    # the process dies: its lock goes, its file stays
    assert first.spool._own is not None
    os.close(os.dup(first.spool._own.fileno()))
    first.spool._own.close()
    first.spool._own = None
    second = AccessLog(settings(pg.url, spool))
    await second.start()
    assert second.spool.pending == 25  # adopted
    await until(lambda: second.backlog == 0)
    await second.stop()
    stored = reader.entries(limit=100)
    assert sorted(s.entry.entry_id for s in stored) == sorted(e.entry_id for e in sent)
    assert list(spool.glob("*.jsonl")) == []
    reader.close()


async def test_nothing_can_record_staff_reads_are_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    registry = CollectorRegistry()
    log = AccessLog(settings(f"sqlite:{blocker / 'audit.sqlite3'}", blocker / "spool"), registry)
    await log.start()
    assert not log.recording
    assert metric(registry, "rugzak_access_log_recording") == 0
    assert log.refuses(STAFF) and not log.refuses(CITIZEN)
    await log.enqueue([entry()])  # a citizen's read (fail open): kept, not dropped
    await asyncio.sleep(0.3)
    assert log.backlog == 1
    blocker.unlink()  # the disk is usable again: the spool takes it
    await until(lambda: log.recording and log.backlog == 0)
    assert not log.refuses(STAFF)
    await log.stop()
    assert metric(registry, "rugzak_access_log_refused_requests_total") == 1


@pytest.mark.parametrize(
    ("mode", "staff", "citizen"), [("everyone", True, True), ("nobody", False, False)]
)
async def test_who_is_refused_is_a_setting(
    tmp_path: Path, mode: str, staff: bool, citizen: bool
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    store = f"sqlite:{blocker / 'audit.sqlite3'}"
    log = AccessLog(settings(store, blocker / "spool", fail_closed=mode))
    await log.start()
    assert (log.refuses(STAFF), log.refuses(CITIZEN)) == (staff, citizen)
    await log.stop()
