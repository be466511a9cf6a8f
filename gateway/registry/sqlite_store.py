"""The registry in a SQLite file (the default): stdlib sqlite3, WAL mode, on the store's thread.

Several gateway processes on one machine may share the file: writes take the database lock
(BEGIN IMMEDIATE) and the head's compare-and-set keeps them apart; each process polls the head.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.registry.store import (
    ACTIONS,
    CLAIMS_COLUMNS,
    OPERATOR_CLAIMS_UPGRADE,
    Cursor,
    SqlBackend,
)

_ACTIONS = ", ".join(f"'{a}'" for a in ACTIONS)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS registry_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO registry_head (id, version) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS supergraphs (
    version INTEGER PRIMARY KEY,
    sdl TEXT NOT NULL,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subgraphs (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    claims TEXT,
    claims_by TEXT,
    claims_at REAL
);
CREATE TABLE IF NOT EXISTS versions (
    subgraph TEXT NOT NULL REFERENCES subgraphs (name),
    n INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ({_ACTIONS})),
    routing_url TEXT NOT NULL,
    sdl TEXT NOT NULL,
    owner TEXT NOT NULL,
    who TEXT NOT NULL,
    at REAL NOT NULL,
    supergraph_version INTEGER NOT NULL REFERENCES supergraphs (version),
    from_version INTEGER,
    forced INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subgraph, n)
);
CREATE TABLE IF NOT EXISTS url_patterns (
    organisation TEXT NOT NULL,
    pattern TEXT NOT NULL,
    who TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (organisation, pattern)
);
"""


class SqliteBackend(SqlBackend):
    placeholder = "?"
    # the file unreadable, the disk failing, or locked past the busy timeout
    unavailable = (sqlite3.OperationalError,)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open()
        self.migrate()

    def _open(self) -> None:
        # autocommit mode: transactions are begun and ended here, explicitly
        self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA busy_timeout = 10000")
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA foreign_keys = ON")
        self._pid = os.getpid()

    @property
    def _db(self) -> sqlite3.Connection:
        """This process's connection: a worker forked by `rugzak serve --workers` opens its own
        (SQLite connections must not cross a fork)."""
        if self._pid != os.getpid():
            self._open()
        return self._connection

    def migrate(self) -> None:
        self._db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
        with self.transaction(write=True) as cur:
            cur.execute("SELECT name FROM pragma_table_info('subgraphs')")
            columns = {row[0] for row in cur.fetchall()}
            if "claims" not in columns:  # a registry made before subgraphs had grants
                for name, kind in CLAIMS_COLUMNS:
                    cur.execute(f"ALTER TABLE subgraphs ADD COLUMN {name} {kind}")
                cur.execute(OPERATOR_CLAIMS_UPGRADE)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Cursor]:
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT")
        finally:
            cursor.close()

    def close(self) -> None:
        self._db.close()
