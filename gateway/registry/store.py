"""Where the registry keeps its subgraphs, every version of each, and the supergraphs composed.

Four tables, the same in SQLite and PostgreSQL:

- `subgraphs`: name, owner organisation, current version number, and the caller claims its
  tokens carry (`claims`: NULL for the minimal default; space-separated names; who granted them
  and when);
- `versions`: one row per change of a subgraph (n = 1, 2, ...): routing URL, SDL, who (the token's
  subject), when, action (seed, add, update, remove, rollback), the version a rollback restored,
  whether breaking changes were forced, and the supergraph version the change made;
- `supergraphs`: every composed supergraph SDL, numbered; `registry_head` holds the newest number,
  the counter replicas poll to notice a change made on another replica;
- `url_patterns`: the URLs each organisation may register (url_policy.py), who allowed each and
  when. Read at every registration, so every replica applies a change at once.

Every write is one transaction guarded by the head: `commit(expected, ...)` succeeds only if the
head is still `expected` (compare and set), so two replicas registering at the same moment cannot
both go live on a supergraph that lacks the other's subgraph: the second gets `StaleRegistry`,
reads the registry again and composes once more.

The SQL runs in a thread of its own (one per store), so the event loop never waits on the
database; `SqlBackend` is the blocking part, `RegistryStore` its asynchronous face.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from auth.subgraph_tokens import ALL_CLAIMS
from gateway.outage_log import OutageLog

log = logging.getLogger("rugzak.registry")
T = TypeVar("T")

ACTIONS = ("seed", "add", "update", "remove", "rollback")
# the columns of a subgraph's grant, added to registries made before grants existed; their
# operator's subgraphs (the reference ones) keep every claim they were sent until then
CLAIMS_COLUMNS = (("claims", "TEXT"), ("claims_by", "TEXT"), ("claims_at", "REAL"))
OPERATOR_CLAIMS_UPGRADE = (
    f"UPDATE subgraphs SET claims = '{' '.join(sorted(ALL_CLAIMS))}', claims_by = 'upgrade' "
    "WHERE owner = 'operator'"
)
DATA_DIR_ENV = "RUGZAK_DATA_DIR"


class StaleRegistry(Exception):
    """Another change was committed since the registry was read: read it again."""


@dataclass(frozen=True, slots=True)
class Version:
    """One change of one subgraph. A `remove` version keeps the URL and SDL of what it removed."""

    subgraph: str
    n: int
    action: str
    routing_url: str
    sdl: str
    owner: str
    who: str
    at: float  # unix seconds
    supergraph_version: int
    from_version: int | None = None  # the version a rollback restored
    forced: bool = False  # went live although it had breaking changes

    @property
    def live(self) -> bool:
        return self.action != "remove"


@dataclass(frozen=True, slots=True)
class Subgraph:
    name: str
    owner: str
    current: Version
    # caller claims granted to the subgraph's tokens; None: the default (minimal)
    claims: frozenset[str] | None = None
    claims_by: str | None = None
    claims_at: float | None = None

    @property
    def live(self) -> bool:
        return self.current.live


@dataclass(frozen=True, slots=True)
class RegistryState:
    """The registry as of head `version`: every subgraph ever registered (removed ones too)."""

    version: int
    subgraphs: dict[str, Subgraph]

    def live(self) -> dict[str, Subgraph]:
        return {name: s for name, s in self.subgraphs.items() if s.live}


@dataclass(frozen=True, slots=True)
class Change:
    """What one commit does to one subgraph. `claims`: what a new subgraph (or one added again,
    or handed to another organisation) is granted; None: the default. An update or rollback by
    the same owner keeps the grant; a removal drops it."""

    subgraph: str
    action: str
    owner: str
    routing_url: str
    sdl: str
    from_version: int | None = None
    claims: frozenset[str] | None = None


def claims_text(claims: frozenset[str] | None) -> str | None:
    return None if claims is None else " ".join(sorted(claims))


def claims_of(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(text.split())


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


_VERSION_COLUMNS = (
    "v.subgraph, v.n, v.action, v.routing_url, v.sdl, v.owner, v.who, v.at, "
    "v.supergraph_version, v.from_version, v.forced"
)


def _version(row: Sequence[Any]) -> Version:
    return Version(
        subgraph=row[0],
        n=int(row[1]),
        action=row[2],
        routing_url=row[3],
        sdl=row[4],
        owner=row[5],
        who=row[6],
        at=float(row[7]),
        supergraph_version=int(row[8]),
        from_version=None if row[9] is None else int(row[9]),
        forced=bool(row[10]),
    )


class SqlBackend:
    """The SQL both databases share; subclasses connect, create the tables and run transactions.
    Every method blocks: `RegistryStore` calls them from its own thread."""

    description = "sql"
    placeholder = "?"
    # errors that mean the database is away (not a refusal or a bug): logged as an outage
    unavailable: tuple[type[Exception], ...] = ()

    def transaction(self, write: bool) -> AbstractContextManager[Cursor]:
        """A transaction (BEGIN IMMEDIATE in SQLite when `write`): commits when the block
        ends, rolls back when it raises."""
        raise NotImplementedError

    def migrate(self) -> None:
        """Create the tables (and the head, at 0) unless they exist."""
        raise NotImplementedError

    def notify(self, cursor: Cursor, version: int) -> None:
        """Tell other replicas at once (PostgreSQL: NOTIFY); polling finds it anyway."""

    def wait_for_change(self, timeout: float) -> None:
        """Return after `timeout` seconds, or earlier when another replica committed."""
        time.sleep(timeout)

    def close(self) -> None:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _run(self, cursor: Cursor, sql: str, *params: Any) -> Any:
        return cursor.execute(self._sql(sql), params)

    def head(self) -> int:
        with self.transaction(write=False) as cur:
            self._run(cur, "SELECT version FROM registry_head WHERE id = 1")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def state(self) -> RegistryState:
        with self.transaction(write=False) as cur:
            # the head first: a commit between the two reads makes the head stale, never newer
            # than the subgraphs read, so a commit based on this state fails its compare-and-set
            self._run(cur, "SELECT version FROM registry_head WHERE id = 1")
            row = cur.fetchone()
            self._run(
                cur,
                f"SELECT s.name, s.owner, s.claims, s.claims_by, s.claims_at, {_VERSION_COLUMNS} "
                "FROM subgraphs s "
                "JOIN versions v ON v.subgraph = s.name AND v.n = s.current_version "
                "ORDER BY s.name",
            )
            rows = cur.fetchall()
        subgraphs = {
            r[0]: Subgraph(
                r[0],
                r[1],
                _version(r[5:]),
                claims_of(r[2]),
                r[3],
                None if r[4] is None else float(r[4]),
            )
            for r in rows
        }
        return RegistryState(int(row[0]) if row else 0, subgraphs)

    def supergraph(self, version: int) -> tuple[str, float] | None:
        """The supergraph SDL of head `version` and when it was committed."""
        with self.transaction(write=False) as cur:
            self._run(cur, "SELECT sdl, at FROM supergraphs WHERE version = ?", version)
            row = cur.fetchone()
        return None if row is None else (str(row[0]), float(row[1]))

    def versions(self, name: str) -> list[Version]:
        with self.transaction(write=False) as cur:
            self._run(
                cur,
                f"SELECT {_VERSION_COLUMNS} FROM versions v WHERE v.subgraph = ? ORDER BY v.n",
                name,
            )
            return [_version(r) for r in cur.fetchall()]

    def commit(
        self,
        expected: int,
        changes: Sequence[Change],
        supergraph_sdl: str,
        who: str,
        reason: str,
        forced: bool = False,
        now: float | None = None,
    ) -> int:
        """Record `changes` and the supergraph they make, as head `expected + 1`; StaleRegistry
        when the head has moved on since `expected` was read."""
        at = time.time() if now is None else now
        version = expected + 1
        with self.transaction(write=True) as cur:
            self._run(
                cur,
                "UPDATE registry_head SET version = ? WHERE id = 1 AND version = ?",
                version,
                expected,
            )
            if cur.rowcount != 1:
                raise StaleRegistry(f"the registry moved on from version {expected}")
            self._run(
                cur,
                "INSERT INTO supergraphs (version, sdl, at, who, reason) VALUES (?, ?, ?, ?, ?)",
                version,
                supergraph_sdl,
                at,
                who,
                reason,
            )
            for change in changes:
                if change.action not in ACTIONS:
                    raise ValueError(f"unknown registry action {change.action!r}")
                self._run(cur, "SELECT MAX(n) FROM versions WHERE subgraph = ?", change.subgraph)
                row = cur.fetchone()
                n = (int(row[0]) if row and row[0] is not None else 0) + 1
                claims = claims_text(change.claims)
                claims_by = None if claims is None else who
                claims_at = None if claims is None else at
                if n == 1:
                    self._run(
                        cur,
                        "INSERT INTO subgraphs (name, owner, current_version, created_at, "
                        "claims, claims_by, claims_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        change.subgraph,
                        change.owner,
                        n,
                        at,
                        claims,
                        claims_by,
                        claims_at,
                    )
                else:
                    self._run(cur, "SELECT owner FROM subgraphs WHERE name = ?", change.subgraph)
                    previous = cur.fetchone()
                    self._run(
                        cur,
                        "UPDATE subgraphs SET owner = ?, current_version = ? WHERE name = ?",
                        change.owner,
                        n,
                        change.subgraph,
                    )
                    # a grant belongs to the subgraph as it was granted: not to whoever adds
                    # the name again, nor to another organisation it is handed to
                    handed_on = previous is None or previous[0] != change.owner
                    if (
                        change.action in ("add", "remove", "seed")
                        or handed_on
                        or claims is not None
                    ):
                        self._run(
                            cur,
                            "UPDATE subgraphs SET claims = ?, claims_by = ?, claims_at = ? "
                            "WHERE name = ?",
                            claims,
                            claims_by,
                            claims_at,
                            change.subgraph,
                        )
                self._run(
                    cur,
                    "INSERT INTO versions (subgraph, n, action, routing_url, sdl, owner, who, at, "
                    "supergraph_version, from_version, forced) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    change.subgraph,
                    n,
                    change.action,
                    change.routing_url,
                    change.sdl,
                    change.owner,
                    who,
                    at,
                    version,
                    change.from_version,
                    bool(forced),
                )
            self.notify(cur, version)
        return version

    def url_patterns(self, organisation: str | None = None) -> dict[str, list[str]]:
        """Organisation -> its allowed URL patterns (of one organisation, when given)."""
        with self.transaction(write=False) as cur:
            if organisation is None:
                self._run(cur, "SELECT organisation, pattern FROM url_patterns")
            else:
                self._run(
                    cur,
                    "SELECT organisation, pattern FROM url_patterns WHERE organisation = ?",
                    organisation,
                )
            rows = cur.fetchall()
        patterns: dict[str, list[str]] = {}
        for org, pattern in sorted(rows):
            patterns.setdefault(str(org), []).append(str(pattern))
        return patterns

    def change_url_patterns(
        self,
        organisation: str,
        allow: Sequence[str],
        forget: Sequence[str],
        clear: bool,
        who: str,
        now: float | None = None,
    ) -> list[str]:
        """Forget (all, with `clear`) then allow patterns of one organisation, in one
        transaction; its patterns afterwards."""
        at = time.time() if now is None else now
        with self.transaction(write=True) as cur:
            if clear:
                self._run(cur, "DELETE FROM url_patterns WHERE organisation = ?", organisation)
            for pattern in forget:
                self._run(
                    cur,
                    "DELETE FROM url_patterns WHERE organisation = ? AND pattern = ?",
                    organisation,
                    pattern,
                )
            for pattern in allow:
                self._run(
                    cur,
                    "INSERT INTO url_patterns (organisation, pattern, who, at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    organisation,
                    pattern,
                    who,
                    at,
                )
            self._run(
                cur,
                "SELECT pattern FROM url_patterns WHERE organisation = ? ORDER BY pattern",
                organisation,
            )
            return [str(row[0]) for row in cur.fetchall()]

    def set_claims(
        self,
        expected: int,
        name: str,
        claims: frozenset[str] | None,
        supergraph_sdl: str,
        who: str,
        reason: str,
        now: float | None = None,
    ) -> int:
        """Grant `claims` (None: back to the default) to subgraph `name`, as head `expected + 1`
        with the same supergraph: replicas see the head move and read the grants again.
        StaleRegistry when the head has moved on."""
        at = time.time() if now is None else now
        version = expected + 1
        text = claims_text(claims)
        with self.transaction(write=True) as cur:
            self._run(
                cur,
                "UPDATE registry_head SET version = ? WHERE id = 1 AND version = ?",
                version,
                expected,
            )
            if cur.rowcount != 1:
                raise StaleRegistry(f"the registry moved on from version {expected}")
            self._run(
                cur,
                "INSERT INTO supergraphs (version, sdl, at, who, reason) VALUES (?, ?, ?, ?, ?)",
                version,
                supergraph_sdl,
                at,
                who,
                reason,
            )
            self._run(
                cur,
                "UPDATE subgraphs SET claims = ?, claims_by = ?, claims_at = ? WHERE name = ?",
                text,
                who,
                at,
                name,
            )
            if cur.rowcount != 1:
                raise ValueError(f"no subgraph named {name}")
            self.notify(cur, version)
        return version


class RegistryStore:
    """The store, awaitable: each call runs on the store's own thread (one connection, used by
    one thread at a time), so SQLite and psycopg's blocking API never block the event loop."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.description = backend.description
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="rugzak-registry")
        self._waiter = ThreadPoolExecutor(1, thread_name_prefix="rugzak-registry-watch")
        self.outage = OutageLog(log, f"registry {self.description}")

    def unavailable(self, exc: BaseException) -> bool:
        """Whether `exc` says the database is away (and the outage log has told already)."""
        return isinstance(exc, self.backend.unavailable)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, lambda: fn(*args))
        except self.backend.unavailable as exc:
            self.outage.failed(exc)
            raise
        except Exception:  # a refusal (e.g. StaleRegistry): the database answered
            self.outage.answered()
            raise
        self.outage.answered()
        return result

    async def head(self) -> int:
        return await self._call(self.backend.head)

    async def state(self) -> RegistryState:
        return await self._call(self.backend.state)

    async def supergraph(self, version: int) -> tuple[str, float] | None:
        return await self._call(self.backend.supergraph, version)

    async def versions(self, name: str) -> list[Version]:
        return await self._call(self.backend.versions, name)

    async def commit(
        self,
        expected: int,
        changes: Sequence[Change],
        supergraph_sdl: str,
        who: str,
        reason: str,
        forced: bool = False,
    ) -> int:
        return await self._call(
            self.backend.commit, expected, changes, supergraph_sdl, who, reason, forced
        )

    async def url_patterns(self, organisation: str | None = None) -> dict[str, list[str]]:
        return await self._call(self.backend.url_patterns, organisation)

    async def change_url_patterns(
        self, organisation: str, allow: Sequence[str], forget: Sequence[str], clear: bool, who: str
    ) -> list[str]:
        return await self._call(
            self.backend.change_url_patterns, organisation, allow, forget, clear, who
        )

    async def set_claims(
        self,
        expected: int,
        name: str,
        claims: frozenset[str] | None,
        supergraph_sdl: str,
        who: str,
        reason: str,
    ) -> int:
        return await self._call(
            self.backend.set_claims, expected, name, claims, supergraph_sdl, who, reason
        )

    async def wait_for_change(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._waiter, self.backend.wait_for_change, timeout)

    async def close(self) -> None:
        await self._call(self.backend.close)
        self._executor.shutdown(wait=False)
        self._waiter.shutdown(wait=False, cancel_futures=True)


def data_dir() -> Path:
    """`$RUGZAK_DATA_DIR`, or `.rugzak/data` under the working directory (as the subgraphs)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(configured) if configured else Path(".rugzak") / "data"


def open_store(url: str) -> RegistryStore:
    """`sqlite` (the file registry.sqlite3 in the data directory), `sqlite:PATH`, or a
    PostgreSQL URL (`postgresql://user@host:port/db`). ValueError for anything else, or when
    the database cannot be opened."""
    url = url.strip()
    try:
        return RegistryStore(_backend(url))
    except ValueError:
        raise
    except Exception as exc:  # sqlite3.Error, psycopg.Error, OSError: a message, not a trace
        raise ValueError(f"cannot open the registry {_redacted(url)}: {exc}") from exc


def _backend(url: str) -> SqlBackend:
    if url in ("sqlite", "sqlite:"):
        from gateway.registry.sqlite_store import SqliteBackend

        return SqliteBackend(data_dir() / "registry.sqlite3")
    if url.startswith("sqlite:"):
        rest = url[len("sqlite:") :]
        if rest.startswith("//"):  # sqlite:///abs/path or sqlite://rel/path
            rest = rest[2:]
        from gateway.registry.sqlite_store import SqliteBackend

        return SqliteBackend(Path(rest))
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.registry.postgres_store import PostgresBackend

        return PostgresBackend(url)
    raise ValueError(
        f"--registry wants sqlite, sqlite:PATH or postgresql://USER@HOST:PORT/DB, got {url!r}"
    )


def _redacted(url: str) -> str:
    """The URL without a password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        return f"{scheme}://{credentials.split(':')[0]}@{host}"
    return url
