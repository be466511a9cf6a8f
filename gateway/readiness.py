"""Readiness (`GET /ready`): what this gateway can serve right now, checked, not assumed.

Every `interval` seconds it checks that each subgraph's server answers (a GET of its URL without
a query: no GraphQL work, not counted as a request by the subgraph; any HTTP answer but 502, 503
or 504 means it serves), pings the cache backend (Redis) and reads the registry's head version
(SQLite or PostgreSQL). One check of each at a
time: a check still waiting (a frozen subgraph, a database that does not answer) is not
started again, and counts as down once it has waited longer than its timeout. A subgraph that
does not answer also counts against its circuit breaker, so that the breaker opens even when
there is little traffic.

`/health` stays liveness: 200 while the process serves, whatever its dependencies do."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.cache.store import CacheStore
from gateway.execution.resilience import Probe, Resilience, SubgraphGuard
from gateway.execution.subgraph_client import SubgraphClient
from gateway.execution.transport import SubgraphFailure
from gateway.outage_log import short_error
from gateway.registry.service import Registry

log = logging.getLogger("rugzak.readiness")

# a proxy or load balancer in front of the subgraph saying that it is not there
_UPSTREAM_DOWN = (502, 503, 504)
# a subgraph in these states serves nothing; the gateway is unready when all are in them
_NOT_SERVING = ("down", "circuit_open")


@dataclass(slots=True)
class _Check:
    """The last result of checking one dependency, and the check under way, if any."""

    up: bool | None = None  # None: not checked yet
    error: str | None = None
    at: float = 0.0
    running: asyncio.Task[None] | None = None
    started: float = 0.0

    def stalled(self, timeout: float) -> bool:
        return self.running is not None and time.monotonic() - self.started > timeout


class Readiness:
    def __init__(
        self,
        resilience: Resilience,
        client: SubgraphClient,
        urls: Callable[[], Mapping[str, str]],
        cache: CacheStore,
        registry: Registry | None,
        interval: float = 1.0,
        timeout: float = 1.0,
    ) -> None:
        self.resilience = resilience
        self.client = client
        self.urls = urls
        self.cache = cache
        self.registry = registry
        self.interval = interval
        self.timeout = timeout
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._cache = _Check()
        self._registry = _Check()

    async def run(self) -> None:
        """Checks everything every `interval` seconds, until cancelled."""
        try:
            while True:
                self.check()
                await asyncio.sleep(self.interval)
        finally:
            for task in [*self._probes.values(), self._cache.running, self._registry.running]:
                if task is not None:
                    task.cancel()

    def check(self) -> None:
        """Starts a check of every dependency that has none under way."""
        for name, url in self.urls().items():
            if name not in self._probes:
                task = asyncio.ensure_future(self._probe(self.resilience.guard(name), url))
                self._probes[name] = task
                task.add_done_callback(functools.partial(self._probed, name))
        if self.cache.description != "memory":
            self._start(self._cache, self._ping_cache())
        if self.registry is not None:
            self._start(self._registry, self._ping_registry(self.registry))

    def _start(self, check: _Check, work: Any) -> None:
        if check.running is not None:
            work.close()  # the coroutine never runs: the last check still waits
            return
        check.started = time.monotonic()
        check.running = asyncio.ensure_future(work)

        def finished(task: asyncio.Task[None]) -> None:
            check.running = None

        check.running.add_done_callback(finished)

    def _probed(self, name: str, task: asyncio.Task[None]) -> None:
        self._probes.pop(name, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("checking subgraph %s failed", name, exc_info=task.exception())

    async def _probe(self, guard: SubgraphGuard, url: str) -> None:
        started = time.perf_counter()
        result = await self.client.ping(url, self.timeout)
        seconds = time.perf_counter() - started
        if isinstance(result, SubgraphFailure):
            down = result.code == "SUBREQUEST_TIMEOUT" or result.reason.startswith("connection")
            outcome = "down" if down else "error"  # error: it answers, but not with HTTP
            probe = Probe(outcome, f"{result.code}: {result.reason}", time.time(), seconds)
        elif result in _UPSTREAM_DOWN:
            probe = Probe("down", f"HTTP {result}", time.time(), seconds)
        else:  # any other answer (even 400, 401 or 405 to a GET without a query): it serves
            probe = Probe("up", "", time.time(), seconds)
        guard.probed(probe)

    async def _ping_cache(self) -> None:
        error = await self.cache.ping()
        _record(self._cache, error)

    async def _ping_registry(self, registry: Registry) -> None:
        try:
            await registry.store.head()
        except Exception as exc:  # the database is down or refuses: that is the news
            error: str | None = short_error(exc)
        else:
            error = None
        _record(self._registry, error)

    # -- the report ------------------------------------------------------------------------------

    def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of /ready: 200 ready or degraded, 503 when no subgraph serves."""
        subgraphs = {name: self._subgraph(self.resilience.guard(name)) for name in self.urls()}
        states = [s["state"] for s in subgraphs.values()]
        body: dict[str, Any] = {"subgraphs": subgraphs}
        degraded = any(state != "up" for state in states)
        if self.cache.description != "memory":
            body["cache"] = self._dependency(self._cache, self.cache.description)
            degraded = degraded or body["cache"]["up"] is False
        if self.registry is not None:
            # the kind of store only (sqlite, postgresql): never its path, host or credentials
            kind = self.registry.store.description.split(":", 1)[0]
            registry = self._dependency(self._registry, kind)
            registry["servedVersion"] = self.registry.served_version
            body["registry"] = registry
            degraded = degraded or registry["up"] is False
        if states and all(state in _NOT_SERVING for state in states):
            status = "unready"
        else:
            status = "degraded" if degraded else "ready"
        return (503 if status == "unready" else 200), {"status": status, **body}

    def _subgraph(self, guard: SubgraphGuard) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": guard.state(),
            "breaker": guard.breaker.state.value,
            "inFlight": guard.limit.in_flight,
            "queued": guard.limit.waiting,
        }
        probe = guard.last_probe
        if guard.breaker.state.value == "open":
            out["retryIn"] = round(guard.breaker.retry_in(), 3)
        if guard.last_error is not None:
            error = guard.last_error
            out["lastError"] = {"code": error.code, "message": error.reason, "at": _iso(error.at)}
        if probe is not None:
            out["lastCheck"] = {
                "outcome": probe.outcome,
                "at": _iso(probe.at),
                "ms": round(probe.seconds * 1000, 1),
                **({"message": probe.reason} if probe.reason else {}),
            }
        return out

    def _dependency(self, check: _Check, description: str) -> dict[str, Any]:
        up = check.up
        error = check.error
        if check.stalled(self.timeout):
            up, error = False, f"no answer for {time.monotonic() - check.started:.1f}s"
        out: dict[str, Any] = {"backend": description, "up": up}
        if error is not None:
            out["lastError"] = error
        if check.at:
            out["checkedAt"] = _iso(check.at)
        return out

    async def aclose(self) -> None:
        for task in [*self._probes.values(), self._cache.running, self._registry.running]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def _record(check: _Check, error: str | None) -> None:
    # not logged here: the cache's and the registry store's outage logs tell (once per outage)
    if error is not None:
        check.error = error
    check.up = error is None
    check.at = time.time()


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
