"""Where the access log is kept: one append-only, hash-chained table, in SQLite or PostgreSQL.

    access_log              one row per entry; `seq` is its position in the chain, `prev_hash`
                            and `hash` chain it to the row before (gateway/audit/entry.py)
    access_log_checkpoints  one row per purge: the position and hash of the last entry it
                            removed, from where the chain of the remaining rows is verified

Appending takes the database's write lock for the whole batch (SQLite: BEGIN IMMEDIATE;
PostgreSQL: a transaction-level advisory lock), reads the head, chains the batch onto it and
inserts it: replicas and worker processes writing one log keep one chain. An entry whose
`entry_id` is already stored is skipped, so a batch written again after a lost acknowledgement
(or replayed from the spool) is never stored twice.

As with the registry, SQL runs on a thread of its own (`AuditStore`); `AuditBackend` is the
blocking part.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from gateway.audit.entry import GENESIS, AccessEntry

T = TypeVar("T")

STORE_FILE = "audit.sqlite3"
_COLUMNS = (
    "seq, entry_id, at_us, subject, caller, role, own, organisation, application, purpose, "
    "assurance, categories, fields, refused, operation, request_id, outcome, prev_hash, hash"
)


class AuditStoreError(Exception):
    """The store cannot be reached or written (the message names no personal data)."""


class DuplicateEntry(AuditStoreError):
    """A batch holds an entry stored already (a replay, or a retry after a lost reply)."""


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params_seq: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry: AccessEntry
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Where the chain does not hold: the row (`seq`, its entry id) and what is wrong."""

    seq: int
    entry_id: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    start_seq: int  # the checkpoint the chain was verified from (0: from the beginning)
    head_seq: int
    head_hash: str
    problems: tuple[Problem, ...]


def _row(entry: AccessEntry, seq: int, prev_hash: str, hash_: str, own: Any) -> tuple[Any, ...]:
    return (
        seq,
        entry.entry_id,
        entry.at_us,
        entry.subject,
        entry.caller,
        entry.role,
        own,
        entry.organisation,
        entry.application,
        entry.purpose,
        entry.assurance,
        orjson.dumps(list(entry.categories)).decode(),
        orjson.dumps(list(entry.fields)).decode(),
        orjson.dumps(list(entry.refused)).decode(),
        entry.operation,
        entry.request_id,
        entry.outcome,
        prev_hash,
        hash_,
    )


def _stored(row: Sequence[Any]) -> StoredEntry:
    entry = AccessEntry(
        entry_id=str(row[1]),
        at_us=int(row[2]),
        subject=row[3],
        caller=row[4],
        role=str(row[5]),
        own=bool(row[6]),
        organisation=row[7],
        application=row[8],
        purpose=row[9],
        assurance=row[10],
        categories=tuple(orjson.loads(row[11])),
        fields=tuple(orjson.loads(row[12])),
        refused=tuple(orjson.loads(row[13])),
        operation=str(row[14]),
        request_id=str(row[15]),
        outcome=str(row[16]),
    )
    return StoredEntry(int(row[0]), entry, str(row[17]), str(row[18]))


class AuditBackend:
    """The SQL both databases share. Every method blocks: `AuditStore` calls them from its own
    thread. A method that cannot reach the database raises `AuditStoreError`."""

    description = "sql"
    placeholder = "?"

    def transaction(self) -> AbstractContextManager[Cursor]:
        """A write transaction holding the log's lock; commits when the block ends."""
        raise NotImplementedError

    def read(self) -> AbstractContextManager[Cursor]:
        """A read-only transaction."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _own(self, value: bool) -> Any:
        return value

    def reconnects(self) -> bool:
        """After a failure: was it an old connection that broke (try once more, anew)?"""
        return False

    def _existing(self, cur: Cursor, ids: Sequence[str]) -> set[str]:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _run(self, cur: Cursor, sql: str, *params: Any) -> Any:
        return cur.execute(self._sql(sql), params)

    def _head(self, cur: Cursor) -> tuple[int, str]:
        self._run(cur, "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        return self._checkpoint(cur)

    def _checkpoint(self, cur: Cursor) -> tuple[int, str]:
        self._run(
            cur,
            "SELECT through_seq, hash FROM access_log_checkpoints ORDER BY through_seq DESC "
            "LIMIT 1",
        )
        row = cur.fetchone()
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)

    def append(self, entries: Sequence[AccessEntry]) -> int:
        """Chain and store the entries not stored yet; returns how many were new. A batch is
        first written as it is (the entry ids' unique index refuses one stored before); only
        when that fails is it written again without the entries already there."""
        if not entries:
            return 0
        try:
            return self._append(entries, dedupe=False)
        except DuplicateEntry:
            return self._append(entries, dedupe=True)

    def _append(self, entries: Sequence[AccessEntry], dedupe: bool) -> int:
        with self.transaction() as cur:
            seen = self._existing(cur, [e.entry_id for e in entries]) if dedupe else set()
            fresh = []
            for entry in entries:
                if entry.entry_id not in seen:
                    seen.add(entry.entry_id)
                    fresh.append(entry)
            if not fresh:
                return 0
            seq, prev = self._head(cur)
            rows = []
            for entry in fresh:
                seq += 1
                hash_ = entry.chained(seq, prev)
                rows.append(_row(entry, seq, prev, hash_, self._own(entry.own)))
                prev = hash_
            marks = ", ".join("?" * len(rows[0]))
            cur.executemany(
                self._sql(f"INSERT INTO access_log ({_COLUMNS}) VALUES ({marks})"), rows
            )
        return len(fresh)

    def page(
        self,
        subject: str,
        first: int,
        before_seq: int | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> list[StoredEntry]:
        """A subject's entries, newest first: at most `first`, older than `before_seq`, at or
        after `since_us` and before `until_us`."""
        where = ["subject = ?"]
        params: list[Any] = [subject]
        for clause, value in (
            ("seq < ?", before_seq),
            ("at_us >= ?", since_us),
            ("at_us < ?", until_us),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        params.append(first)
        with self.read() as cur:
            self._run(
                cur,
                f"SELECT {_COLUMNS} FROM access_log WHERE {' AND '.join(where)} "
                "ORDER BY seq DESC LIMIT ?",
                *params,
            )
            return [_stored(r) for r in cur.fetchall()]

    def probe(self) -> None:
        """Raises AuditStoreError when the store cannot be read."""
        with self.read() as cur:
            self._head(cur)

    def count(self) -> int:
        with self.read() as cur:
            self._run(cur, "SELECT COUNT(*) FROM access_log")
            return int(cur.fetchone()[0])

    def entries(self, after_seq: int = 0, limit: int = 5000) -> list[StoredEntry]:
        """Entries in chain order, after position `after_seq`."""
        with self.read() as cur:
            self._run(
                cur,
                f"SELECT {_COLUMNS} FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?",
                after_seq,
                limit,
            )
            return [_stored(r) for r in cur.fetchall()]

    def verify(self) -> Verification:
        """Walk the whole chain from the last checkpoint; every row that breaks it is named."""
        with self.read() as cur:
            start, prev = self._checkpoint(cur)
        problems: list[Problem] = []
        expected, checked, head = start + 1, 0, start
        for stored in self._all(start):
            checked += 1
            if stored.seq != expected:
                problems.append(
                    Problem(
                        stored.seq,
                        stored.entry.entry_id,
                        f"rows {expected} to {stored.seq - 1} are missing before row {stored.seq}",
                    )
                )
            if stored.prev_hash != prev:
                problems.append(
                    Problem(
                        stored.seq,
                        stored.entry.entry_id,
                        f"row {stored.seq} does not follow the row before it: that row (or the "
                        "link stored in this one) was changed",
                    )
                )
            if stored.entry.chained(stored.seq, stored.prev_hash) != stored.hash:
                problems.append(
                    Problem(
                        stored.seq,
                        stored.entry.entry_id,
                        f"row {stored.seq} was changed: its contents do not match its hash",
                    )
                )
            prev, expected, head = stored.hash, stored.seq + 1, stored.seq
        return Verification(checked, start, head, prev, tuple(problems))

    def _all(self, start: int) -> Iterator[StoredEntry]:
        after = start
        while True:
            batch = self.entries(after)
            if not batch:
                return
            yield from batch
            after = batch[-1].seq

    def purge(self, cutoff_us: int, now_us: int | None = None) -> int:
        """Remove the entries older than `cutoff_us` from the start of the chain (up to the first
        entry that is not), leaving a checkpoint of the last one removed. Returns how many."""
        now_us = int(time.time() * 1_000_000) if now_us is None else now_us
        with self.transaction() as cur:
            self._run(cur, "SELECT MIN(seq) FROM access_log WHERE at_us >= ?", cutoff_us)
            row = cur.fetchone()
            keep_from = None if row is None or row[0] is None else int(row[0])
            if keep_from is None:
                self._run(cur, "SELECT MAX(seq) FROM access_log")
                row = cur.fetchone()
                if row is None or row[0] is None:
                    return 0
                through = int(row[0])
            else:
                through = keep_from - 1
            self._run(cur, "SELECT hash FROM access_log WHERE seq = ?", through)
            row = cur.fetchone()
            if row is None:  # nothing older than the cutoff is left
                return 0
            self._run(cur, "SELECT COUNT(*) FROM access_log WHERE seq <= ?", through)
            removed = int(cur.fetchone()[0])
            self._run(
                cur,
                "INSERT INTO access_log_checkpoints (through_seq, hash, purged_at_us, cutoff_us) "
                "VALUES (?, ?, ?, ?)",
                through,
                str(row[0]),
                now_us,
                cutoff_us,
            )
            self._run(cur, "DELETE FROM access_log WHERE seq <= ?", through)
        return removed


class AuditStore:
    """The store, awaitable: each call runs on the store's own thread (one connection, used by
    one thread at a time), so the event loop never waits on the database."""

    def __init__(self, backend: AuditBackend) -> None:
        self.backend = backend
        self.description = backend.description
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="rugzak-audit")

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, lambda: fn(*args))
        except AuditStoreError:
            if not self.backend.reconnects():
                raise
            return await loop.run_in_executor(self._executor, lambda: fn(*args))

    async def append(self, entries: Sequence[AccessEntry]) -> int:
        return await self._call(self.backend.append, entries)

    async def page(
        self,
        subject: str,
        first: int,
        before_seq: int | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> list[StoredEntry]:
        return await self._call(self.backend.page, subject, first, before_seq, since_us, until_us)

    async def probe(self) -> None:
        await self._call(self.backend.probe)

    async def purge(self, cutoff_us: int) -> int:
        return await self._call(self.backend.purge, cutoff_us)

    async def close(self) -> None:
        await self._call(self.backend.close)
        self._executor.shutdown(wait=False)


def default_store_path() -> Path:
    from gateway.registry.store import data_dir

    return data_dir() / STORE_FILE


def open_backend(url: str) -> AuditBackend:
    """`sqlite` ($RUGZAK_DATA_DIR/audit.sqlite3), `sqlite:PATH`, or a PostgreSQL URL. Opening
    connects lazily: a database that is down now is tried again at each write."""
    url = url.strip()
    if url in ("sqlite", "sqlite:"):
        from gateway.audit.sqlite_store import SqliteAuditBackend

        return SqliteAuditBackend(default_store_path())
    if url.startswith("sqlite:"):
        rest = url[len("sqlite:") :]
        if rest.startswith("//"):
            rest = rest[2:]
        from gateway.audit.sqlite_store import SqliteAuditBackend

        return SqliteAuditBackend(Path(rest))
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.audit.postgres_store import PostgresAuditBackend

        return PostgresAuditBackend(url)
    raise ValueError(
        "the access log wants off, sqlite, sqlite:PATH or postgresql://USER@HOST:PORT/DB, got "
        f"{redacted(url)!r}"
    )


def redacted(url: str) -> str:
    """The URL without a password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        return f"{scheme}://{credentials.split(':')[0]}@{host}"
    return url
