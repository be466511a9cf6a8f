"""The access log in PostgreSQL (psycopg 3), for several gateway replicas writing one log.

Each append holds a transaction-level advisory lock while it reads the head and chains its batch
onto it, so the replicas' batches follow each other in one chain. The connection is made on first
use and again after the server went away: a database that is down fails the write (the caller
spools it) instead of stopping the gateway.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from gateway.audit.store import AuditBackend, AuditStoreError, Cursor, DuplicateEntry, redacted

_LOCK = 7_338_041_717  # pg_advisory_xact_lock key of the access log's chain
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS access_log (
        seq BIGINT PRIMARY KEY,
        entry_id TEXT NOT NULL UNIQUE,
        at_us BIGINT NOT NULL,
        subject TEXT,
        caller TEXT,
        role TEXT NOT NULL,
        own BOOLEAN NOT NULL,
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
    )""",
    "CREATE INDEX IF NOT EXISTS access_log_by_subject ON access_log (subject, seq)",
    """CREATE TABLE IF NOT EXISTS access_log_checkpoints (
        through_seq BIGINT PRIMARY KEY,
        hash TEXT NOT NULL,
        purged_at_us BIGINT NOT NULL,
        cutoff_us BIGINT NOT NULL
    )""",
)


class PostgresAuditBackend(AuditBackend):
    placeholder = "%s"

    def __init__(self, url: str, connect_timeout: int = 3) -> None:
        self.url = url
        self.description = redacted(url)
        self._timeout = connect_timeout
        self._db: psycopg.Connection[tuple[Any, ...]] | None = None
        self._dropped = False

    def reconnects(self) -> bool:
        dropped, self._dropped = self._dropped, False
        return dropped

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._db is None or self._db.closed or self._db.broken:
            if self._db is not None:
                self._db.close()
            self._db = None
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=self._timeout)
            with db.transaction(), db.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                for statement in SCHEMA:
                    cur.execute(statement)
            self._db = db
        return self._db

    @contextmanager
    def _transaction(self, lock: bool) -> Iterator[Cursor]:
        connected = self._db is not None and not self._db.closed
        try:
            db = self._connection()
            with db.transaction(), db.cursor() as cursor:
                if lock:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                yield cursor
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateEntry("an entry of the batch is stored already") from exc
        except psycopg.Error as exc:
            # a connection that worked before and broke now: the server restarted; worth one
            # more try on a new connection
            self._dropped = connected and self._db is not None and self._db.broken
            # the message says what failed, never a row's values
            raise AuditStoreError(
                f"access log {self.description}: {type(exc).__name__}: {_first_line(exc)}"
            ) from exc

    def transaction(self) -> Any:
        return self._transaction(lock=True)

    def read(self) -> Any:
        return self._transaction(lock=False)

    def _existing(self, cur: Cursor, ids: Sequence[str]) -> set[str]:
        cur.execute("SELECT entry_id FROM access_log WHERE entry_id = ANY(%s)", (list(ids),))
        return {str(r[0]) for r in cur.fetchall()}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
