"""The access log in a SQLite file (the default): stdlib sqlite3, WAL mode, synchronous=FULL so a
committed entry survives a power cut. Several processes on one machine (workers, the transparency
subgraph reading) share the file: appends take the write lock (BEGIN IMMEDIATE)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from gateway.audit.store import AuditBackend, AuditStoreError, Cursor, DuplicateEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_log (
    seq INTEGER PRIMARY KEY,
    entry_id TEXT NOT NULL UNIQUE,
    at_us INTEGER NOT NULL,
    subject TEXT,
    caller TEXT,
    role TEXT NOT NULL,
    own INTEGER NOT NULL,
    organisation TEXT,
    application TEXT,
    purpose TEXT,
    assurance TEXT,
    categories TEXT NOT NULL,
    fields TEXT NOT NULL,
    refused TEXT NOT NULL,
    operation TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_by_subject ON access_log (subject, seq);
CREATE TABLE IF NOT EXISTS access_log_checkpoints (
    through_seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    purged_at_us INTEGER NOT NULL,
    cutoff_us INTEGER NOT NULL
);
"""


class SqliteAuditBackend(AuditBackend):
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    @property
    def _db(self) -> sqlite3.Connection:
        """This process's connection, opened (and the tables made) on first use; a forked
        worker opens its own."""
        if self._connection is None or self._pid != os.getpid():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # personal data: a new file is readable by this user only (SQLite gives its
                # journal files the same permissions)
                os.close(os.open(self.path, os.O_CREAT | os.O_RDONLY, 0o600))
                connection = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA busy_timeout = 10000")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
                connection.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
            except (sqlite3.Error, OSError) as exc:
                raise AuditStoreError(
                    f"cannot open the access log {self.description}: {exc}"
                ) from exc
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        try:
            cursor = self._db.cursor()
            cursor.execute(begin)
        except sqlite3.Error as exc:
            raise AuditStoreError(f"access log {self.description}: {exc}") from exc
        try:
            yield cursor
        except BaseException as exc:
            cursor.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                raise DuplicateEntry("an entry of the batch is stored already") from exc
            if isinstance(exc, sqlite3.Error):
                raise AuditStoreError(f"access log {self.description}: {exc}") from exc
            raise
        else:
            try:
                cursor.execute("COMMIT")
            except sqlite3.Error as exc:
                raise AuditStoreError(f"access log {self.description}: {exc}") from exc
        finally:
            cursor.close()

    def transaction(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> Any:
        return self._transaction("BEGIN")

    def _own(self, value: bool) -> Any:
        return 1 if value else 0

    def _existing(self, cur: Cursor, ids: Sequence[str]) -> set[str]:
        cur.execute(
            "SELECT entry_id FROM access_log WHERE entry_id IN (SELECT value FROM json_each(?))",
            (orjson.dumps(list(ids)).decode(),),
        )
        return {str(r[0]) for r in cur.fetchall()}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
