"""The registry in PostgreSQL (psycopg 3), for several gateway replicas sharing one registry.

Each commit also sends `NOTIFY rugzak_registry, '<version>'` (delivered when it commits), and
each replica LISTENs on a connection of its own: a replica wakes up as soon as another one
registered something, and polls the head every interval anyway, in case a notification is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from gateway.outage_log import short_error
from gateway.registry.store import (
    ACTIONS,
    CLAIMS_COLUMNS,
    OPERATOR_CLAIMS_UPGRADE,
    Cursor,
    SqlBackend,
)

log = logging.getLogger("rugzak.registry")

CHANNEL = "rugzak_registry"
_MIGRATION_LOCK = 7_338_041_702  # pg_advisory_xact_lock key: replicas create the tables in turn
_ACTIONS = ", ".join(f"'{a}'" for a in ACTIONS)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS registry_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
    )""",
    "INSERT INTO registry_head (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
    """CREATE TABLE IF NOT EXISTS supergraphs (
        version BIGINT PRIMARY KEY,
        sdl TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        who TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS subgraphs (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        current_version INTEGER NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS versions (
        subgraph TEXT NOT NULL REFERENCES subgraphs (name),
        n INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ({_ACTIONS})),
        routing_url TEXT NOT NULL,
        sdl TEXT NOT NULL,
        owner TEXT NOT NULL,
        who TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        supergraph_version BIGINT NOT NULL REFERENCES supergraphs (version),
        from_version INTEGER,
        forced BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (subgraph, n)
    )""",
    """CREATE TABLE IF NOT EXISTS url_patterns (
        organisation TEXT NOT NULL,
        pattern TEXT NOT NULL,
        who TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (organisation, pattern)
    )""",
)


class PostgresBackend(SqlBackend):
    placeholder = "%s"
    # the server down, restarting or unreachable (psycopg's InterfaceError: a closed connection)
    unavailable = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str, connect_timeout: float = 10.0) -> None:
        self.url = url
        info = psycopg.conninfo.conninfo_to_dict(url)
        self.description = f"postgresql://{info.get('host', '')}:{info.get('port', 5432)}/" + str(
            info.get("dbname", "")
        )
        self._timeout = connect_timeout
        self._db = self._connect()
        self._listener: psycopg.Connection[tuple[object, ...]] | None = None
        self._closed = False
        self.migrate()
        self._listen()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=int(self._timeout))

    def migrate(self) -> None:
        with self.transaction(write=True) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            for statement in SCHEMA:
                cur.execute(statement)
            cur.execute(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'subgraphs' AND column_name = 'claims'"
            )
            if cur.fetchone() is None:  # a registry made before subgraphs had grants
                for name, kind in CLAIMS_COLUMNS:
                    pg_kind = "DOUBLE PRECISION" if kind == "REAL" else kind
                    cur.execute(f"ALTER TABLE subgraphs ADD COLUMN {name} {pg_kind}")
                cur.execute(OPERATOR_CLAIMS_UPGRADE)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Cursor]:
        if self._db.closed or self._db.broken:  # the server restarted: connect again
            self._db = self._connect()
        with self._db.transaction(), self._db.cursor() as cursor:
            yield cursor

    def notify(self, cursor: Cursor, version: int) -> None:
        cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(version)))

    def wait_for_change(self, timeout: float) -> None:
        started = time.monotonic()
        try:
            listener = self._listen()
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error as exc:  # polling still finds every change; try LISTEN again later
            if self._closed:
                return
            # not a warning: a database that is away is told once by the store's outage log,
            # which the poll that follows feeds
            log.debug("registry: LISTEN %s failed: %s", CHANNEL, short_error(exc))
            self._listener = None
            time.sleep(max(0.0, timeout - (time.monotonic() - started)))

    def _listen(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._listener is None or self._listener.closed or self._listener.broken:
            self._listener = self._connect()
            self._listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def close(self) -> None:
        self._closed = True
        self._db.close()
        if self._listener is not None:
            self._listener.close()
