"""The registry as this gateway runs it: its store, the supergraph this replica serves, and
keeping that supergraph the registry's newest.

`Registry` holds what every registry operation shares: the store, the SDL fetcher and the
composition worker, the operator's URL patterns, the write and swap locks, and the version this
replica serves. The operations themselves live beside it, one module per kind: changes.py (add,
update, remove, rollback), admin_settings.py (claims granted, URL patterns) and reading.py; the
REST API over them is routes.py.

Other replicas see the head move (a poll every `poll_interval` seconds, or at once on a
PostgreSQL NOTIFY), read the supergraph SDL the change stored, and swap it in: they never
compose it again, so every replica serves the very same supergraph.

Start: when the registry is empty, it is seeded with the subgraphs of the `--supergraph` file
(their SDL fetched from their routing URLs, owner `operator`, granted every caller claim); until
then the gateway serves the file. When the registry holds a supergraph, that one is served from
the start.

Grants: the token the gateway mints for a subgraph carries the caller claims granted to it
(auth/subgraph_tokens.py). A subgraph registered by an organisation gets none (the minimal
default) until `registry:admin` grants some (admin_settings.py); every replica reads the grants
again whenever the registry's head moves, before it serves what the head says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from auth.subgraph_tokens import ALL_CLAIMS, MINIMAL_CLAIMS
from gateway.composition import SubgraphSource
from gateway.registry.address_guard import AddressGuard
from gateway.registry.candidate import Candidate, Refused
from gateway.registry.errors import RegistryRefusal
from gateway.registry.fetch import FetchLimits, SdlFetcher, SdlUnavailable
from gateway.registry.limits import SdlTooLarge
from gateway.registry.ownership import OPERATOR
from gateway.registry.store import (
    Change,
    RegistryState,
    RegistryStore,
    StaleRegistry,
    open_store,
)
from gateway.registry.url_policy import UrlNotAllowed, UrlPattern, parse_patterns
from gateway.registry.worker import CompositionLimitExceeded, CompositionWorker, WorkerLimits
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.registry")

COMMIT_ATTEMPTS = 5  # compare-and-set retries when other replicas keep committing


class Gateway(Protocol):
    """What the registry needs of the gateway it runs in (GatewayApp)."""

    supergraph: Supergraph
    supergraph_sdl: str

    async def swap_supergraph(self, sdl: str) -> object: ...

    def set_subgraph_grants(self, grants: Mapping[str, frozenset[str]]) -> None: ...


# the subgraph transport's SubgraphClient.set_address_guards
GuardAddresses = Callable[[Mapping[str, AddressGuard]], Awaitable[None]]


class Registry:
    def __init__(
        self,
        store: RegistryStore,
        gateway: Gateway,
        *,
        seed_urls: Mapping[str, str] | None = None,
        poll_interval: float = 1.0,
        allowed_urls: Sequence[UrlPattern] = (),
        fetch_limits: FetchLimits | None = None,
        worker_limits: WorkerLimits | None = None,
        guard_addresses: GuardAddresses | None = None,
    ) -> None:
        """`guard_addresses`: told the guard of every registered subgraph's routing URL
        whenever the registry's head or URL patterns change (the subgraph transport's)."""
        self.store = store
        self.gateway = gateway
        self.seed_urls = dict(seed_urls or {})
        self.poll_interval = poll_interval
        # patterns every organisation may register (the operator's configuration)
        self.allowed_urls = list(allowed_urls)
        self.fetcher = SdlFetcher(fetch_limits)
        self.worker = CompositionWorker(worker_limits)
        self.guard_addresses = guard_addresses
        self.served_version = 0  # the registry head this gateway serves (0: the file's)
        self.last_swap: dict[str, Any] | None = None
        self.seed_error: str | None = None
        # one change at a time from this replica (changes.py, admin_settings.py, seeding)
        self.write_lock = asyncio.Lock()
        # one swap at a time: what this replica serves, its grants and its address guards
        self.swap_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    @classmethod
    def for_gateway(cls, app: Any) -> Registry:
        """The registry of a GatewayApp whose config names one (`--registry`)."""
        config = app.config
        urls = {
            g.name: config.subgraph_urls.get(g.name, g.url) for g in app.supergraph.graphs.values()
        }
        limits = config.registry_limits
        return cls(
            open_store(config.registry_url),
            app,
            seed_urls=urls,
            poll_interval=config.registry_poll_interval,
            allowed_urls=parse_patterns(config.registry_allowed_urls),
            fetch_limits=FetchLimits(limits.fetch_seconds, limits.max_sdl_bytes),
            worker_limits=WorkerLimits(
                limits.compose_cpu_seconds, limits.compose_memory_bytes, limits.max_sdl_bytes
            ),
            guard_addresses=app.client.set_address_guards,
        )

    # -- keeping this gateway on the newest supergraph ---------------------------------------

    async def start(self) -> None:
        """Serve the registry's supergraph (seeding the registry first if it is empty), then
        watch for changes made by other replicas."""
        try:
            await self.sync()
        except Exception as exc:
            if not self.store.unavailable(exc):  # a database away is told by its outage log
                log.exception("registry: first sync failed")
            log.warning("registry: serving the --supergraph file until the registry answers")
        self._watcher = asyncio.ensure_future(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.store.close()

    async def _watch(self) -> None:
        while True:
            try:
                await self.store.wait_for_change(self.poll_interval)
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away for a moment: keep serving, poll again
                # a database that is away is told once by the store's outage log (down, a
                # reminder now and then, back); anything else is a bug worth its traceback
                if not self.store.unavailable(exc):
                    log.exception("registry: poll failed")
                await asyncio.sleep(self.poll_interval)

    async def sync(self) -> bool:
        """Serve the registry's head supergraph if this gateway does not yet; True if swapped."""
        head = await self.store.head()
        if head == 0:
            return await self._seed()
        if head <= self.served_version:
            return False
        found = await self.store.supergraph(head)
        if found is None:
            return False
        sdl, at = found
        return await self.serve(head, sdl, at)

    async def serve(self, version: int, sdl: str, committed_at: float) -> bool:
        """Serve supergraph `version`, its grants and address guards first; False when this
        replica serves it or a newer one already, or when it cannot be served (the last good
        supergraph serves on)."""
        async with self.swap_lock:
            if version <= self.served_version:
                return False
            # grants first: a subgraph new to the supergraph is called with what it was granted
            # (and a revoked claim is gone before anything else changes)
            state = await self.store.state()
            self.gateway.set_subgraph_grants(grants(state))
            await self.guard(state)
            if sdl == self.gateway.supergraph_sdl:  # only grants changed
                self.served_version = version
                return True
            try:
                await self.gateway.swap_supergraph(sdl)
            except Exception as exc:  # the last good supergraph serves on; do not retry it
                log.error("registry: supergraph version %d cannot be served: %s", version, exc)
                self.served_version = version
                return False
            self.served_version = version
            lag = max(0.0, time.time() - committed_at)
            self.last_swap = {"version": version, "secondsAfterCommit": round(lag, 3)}
            log.warning(
                "registry: serving supergraph version %d, %.3f s after it was committed",
                version,
                lag,
            )
            return True

    async def _seed(self) -> bool:
        """Fill an empty registry with the subgraphs of the --supergraph file (or, when another
        replica did so meanwhile, serve what it committed)."""
        if not self.seed_urls:
            return False
        async with self.write_lock:
            seeded = await self._seed_commit() if await self.store.head() == 0 else None
        if seeded is None:
            return await self.sync()
        if isinstance(seeded, bool):
            return False
        version, sdl = seeded
        return await self.serve(version, sdl, time.time())

    async def _seed_commit(self) -> tuple[int, str] | bool | None:
        """(version, supergraph) committed; False when the subgraphs cannot be read or do not
        compose (tried again at the next poll); None when another replica seeded first."""
        try:
            sources = [
                SubgraphSource(name, url, await self.fetcher.fetch(url, trusted=True))
                for name, url in sorted(self.seed_urls.items())
            ]
            judged = await self.worker.evaluate(Candidate(tuple(sources)))
            if isinstance(judged, Refused):
                n = len(judged.errors)
                raise ValueError(judged.message or f"they do not compose ({n} errors)")
            sdl = judged.supergraph
        except (
            SdlUnavailable,
            SdlTooLarge,
            UrlNotAllowed,
            CompositionLimitExceeded,
            ValueError,
        ) as exc:
            message = f"cannot seed the registry from the --supergraph file: {exc}"
            if message != self.seed_error:
                log.warning("registry: %s (trying again every poll)", message)
            self.seed_error = message
            return False
        changes = [
            Change(s.name, "seed", OPERATOR, s.url, s.sdl, claims=ALL_CLAIMS) for s in sources
        ]
        try:
            version = await self.store.commit(
                0, changes, sdl, "rugzak serve", "seeded from the --supergraph file"
            )
        except StaleRegistry:
            return None
        self.seed_error = None
        log.warning("registry: seeded with %s", ", ".join(s.name for s in sources))
        return version, sdl

    async def ready_state(self) -> RegistryState:
        """The registry at its head, seeded first when it is empty (503 REGISTRY_NOT_READY when
        it cannot be): what a change or a grant starts from."""
        state = await self.store.state()
        if state.version == 0:
            await self._seed()
            state = await self.store.state()
            if state.version == 0:
                raise RegistryRefusal(
                    503,
                    "REGISTRY_NOT_READY",
                    self.seed_error or "the registry is empty and could not be seeded",
                )
        return state

    async def guard(self, state: RegistryState | None = None) -> None:
        """Every registered subgraph's connections judged by its owner's URL patterns as they
        stand (address_guard.py); the operator's own subgraphs are not guarded."""
        if self.guard_addresses is None:
            return
        state = state or await self.store.state()
        stored = await self.store.url_patterns()
        guards: dict[str, AddressGuard] = {}
        for subgraph in state.live().values():
            if subgraph.owner == OPERATOR:
                continue
            url = subgraph.current.routing_url
            patterns = stored.get(subgraph.owner, [])
            try:
                guard = AddressGuard(url, parse_patterns(patterns), self.allowed_urls)
            except ValueError as exc:  # a pattern stored by an older version: refuse, say why
                log.error("registry: %s's URL patterns: %s", subgraph.owner, exc)
                guard = AddressGuard(url, refusal="its organisation's URL patterns are unreadable")
            guards.setdefault(url, guard)
        await self.guard_addresses(guards)


def grants(state: RegistryState) -> dict[str, frozenset[str]]:
    """The claims each live subgraph's tokens carry."""
    return {
        name: MINIMAL_CLAIMS if s.claims is None else s.claims for name, s in state.live().items()
    }
