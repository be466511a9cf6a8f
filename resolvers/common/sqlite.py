"""The SQLite helper every reference subgraph uses: one file per subgraph, seeded on first start.

- `data_dir()` is `$RUGZAK_DATA_DIR`, or `.rugzak/data` relative to the working directory.
- `Store.open(path, seed, version=...)` creates and seeds the file when it is missing or was
  seeded by another seed version (`PRAGMA user_version`), writing a temporary file first and
  renaming it into place, so a crash or a second process never sees a half-seeded store.
- `Store.session()` gives each request a `Session` that counts its SQL statements: the subgraph
  app reports that count in the `x-store-queries` response header.

Queries run synchronously on the event loop thread, on purpose: every statement is an indexed
lookup on a local file of a few megabytes and takes microseconds, less than handing it to a
worker thread with `asyncio.to_thread` would cost; writes are single-row inserts (one
transaction per reported ticket). One connection per process, used only from the loop thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "RUGZAK_DATA_DIR"
DEFAULT_DATA_DIR = Path(".rugzak/data")

Seed = Callable[[sqlite3.Connection], None]
"""Creates the tables of an empty database and fills them; must be deterministic."""

Params = Sequence[Any]


def data_dir() -> Path:
    """Where the subgraph stores live: `$RUGZAK_DATA_DIR` or `.rugzak/data` under the cwd."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured) if configured else DEFAULT_DATA_DIR


def store_path(subgraph: str) -> Path:
    """The store file of one subgraph, e.g. `.rugzak/data/education.sqlite3`."""
    return data_dir() / f"{subgraph}.sqlite3"


def create_store(path: Path, seed: Seed, version: int) -> None:
    """Seed a fresh database into `path`, replacing whatever was there, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            seed(conn)
            conn.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        conn.close()
    os.replace(tmp, path)


def stored_version(path: Path) -> int | None:
    """The seed version recorded in an existing store, or None when there is no usable file."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


class QueryCounter:
    """Counts the SQL statements one request sent to the store."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class Session:
    """A request's view of the store: every statement it runs is counted."""

    def __init__(self, conn: sqlite3.Connection, counter: QueryCounter) -> None:
        self._conn = conn
        self.counter = counter

    @property
    def queries(self) -> int:
        """How many statements this session has run."""
        return self.counter.count

    def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        self.counter.count += 1
        return self._conn.execute(sql, params).fetchall()

    def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        self.counter.count += 1
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; returns the last inserted row id."""
        self.counter.count += 1
        return self._conn.execute(sql, params).lastrowid or 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT around a block of writes (ROLLBACK when it raises)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


class Store:
    """One subgraph's SQLite file, opened once per process."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, seed: Seed, *, version: int, writable: bool = False) -> Store:
        """Open the store at `path`, creating and seeding it first when missing or outdated."""
        if stored_version(path) != version:
            create_store(path, seed, version)
        mode = "rw" if writable else "ro"
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,  # autocommit; Session.transaction() groups writes
            check_same_thread=False,  # opened in the lifespan task, used on the same loop thread
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return cls(conn, path)

    def session(self) -> Session:
        """A fresh, counted session for one request."""
        return Session(self._conn, QueryCounter())

    def close(self) -> None:
        self._conn.close()


def json_list(values: Sequence[str] | Sequence[int]) -> str:
    """Encode keys for `IN (SELECT value FROM json_each(?))`: one parameter, any batch size."""
    return json.dumps(list(values))
