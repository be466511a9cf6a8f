"""The registry's operations, and keeping this gateway on the registry's newest supergraph.

A change (add, update, remove, rollback) is made in this order: read the registry (its head
version and live subgraphs); fetch the new SDL (add/update); compose it with the other live
subgraphs using Rugzak's composer; check the ownership rule (ownership.py); compare the new API
schema with the live one (breaking.py); then, unless it is only a check, commit the version and
the supergraph in one transaction that succeeds only if the head has not moved (else all of it
again, on the newer registry), and swap the new supergraph in (`GatewayApp.swap_supergraph`).

Other replicas see the head move (a poll every `poll_interval` seconds, or at once on a
PostgreSQL NOTIFY), read the supergraph SDL the change stored, and swap it in: they never
compose it again, so every replica serves the very same supergraph.

Start: when the registry is empty, it is seeded with the subgraphs of the `--supergraph` file
(their SDL fetched from their routing URLs, owner `operator`, granted every caller claim); until
then the gateway serves the file. When the registry holds a supergraph, that one is served from
the start.

Grants: the token the gateway mints for a subgraph carries the caller claims granted to it
(auth/subgraph_tokens.py). A subgraph registered by an organisation gets none (the minimal
default) until `registry:admin` grants some (`grant`); every replica reads the grants again
whenever the registry's head moves, before it serves what the head says.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from starlette.requests import Request
from starlette.routing import Route

from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, MINIMAL_CLAIMS, check_claim_names
from gateway.composition import SubgraphSource
from gateway.rate_limit import Refusal
from gateway.registry.address_guard import AddressGuard
from gateway.registry.candidate import Candidate, Evaluation, Refused
from gateway.registry.errors import RegistryRefusal
from gateway.registry.fetch import FetchLimits, SdlFetcher, SdlUnavailable
from gateway.registry.limits import SdlTooLarge
from gateway.registry.ownership import (
    OPERATOR,
    ORGANISATION,
    REGISTRY_ADMIN,
    check_may_read,
    check_name,
    owner_for_change,
)
from gateway.registry.store import (
    Change,
    RegistryState,
    RegistryStore,
    StaleRegistry,
    Subgraph,
    Version,
    open_store,
)
from gateway.registry.url_policy import UrlNotAllowed, UrlPattern, parse_patterns
from gateway.registry.worker import CompositionLimitExceeded, CompositionWorker, WorkerLimits
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.registry")

_ATTEMPTS = 5  # compare-and-set retries when other replicas keep committing


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
        self._write_lock = asyncio.Lock()
        self._swap_lock = asyncio.Lock()
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

    def routes(
        self,
        authenticate: Callable[[Request], Awaitable[Principal]],
        admit: Callable[[Request, Principal, bool], Awaitable[Refusal | None]] | None = None,
    ) -> list[Route]:
        """The REST API (routes.py), authenticating callers as the gateway does, within their
        rate limits (`admit`: gateway/rate_limit.py's, by the request, the caller and whether
        the call composes)."""
        from gateway.registry.routes import registry_routes

        return registry_routes(self, authenticate, admit)

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
        return await self._serve(head, sdl, at)

    async def _serve(self, version: int, sdl: str, committed_at: float) -> bool:
        async with self._swap_lock:
            if version <= self.served_version:
                return False
            # grants first: a subgraph new to the supergraph is called with what it was granted
            # (and a revoked claim is gone before anything else changes)
            state = await self.store.state()
            self.gateway.set_subgraph_grants(grants(state))
            await self._guard(state)
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
        async with self._write_lock:
            seeded = await self._seed_commit() if await self.store.head() == 0 else None
        if seeded is None:
            return await self.sync()
        if isinstance(seeded, bool):
            return False
        version, sdl = seeded
        return await self._serve(version, sdl, time.time())

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

    async def _state(self) -> RegistryState:
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

    async def _guard(self, state: RegistryState | None = None) -> None:
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

    async def _live_sdl(self, version: int) -> str:
        found = await self.store.supergraph(version)
        return self.gateway.supergraph.sdl if found is None else found[0]

    # -- changes -------------------------------------------------------------------------------

    async def register(
        self,
        principal: Principal,
        name: str,
        url: Any,
        owner: Any = None,
        *,
        force: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Add or update `name` at routing URL `url` (check only, with `dry_run`)."""
        check_name(name)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RegistryRefusal(400, "BAD_REQUEST", "url: the subgraph's http(s) routing URL")
        if owner is not None and not isinstance(owner, str):
            raise RegistryRefusal(400, "BAD_REQUEST", "owner: a NIS code or agency code")
        state = await self._state()
        existing = state.subgraphs.get(name)
        # refuse a caller who may not change it before fetching anything on their behalf
        org = owner_for_change(principal, name, existing.owner if existing else None, owner)
        sdl = await self._fetch(url, org)

        def change(state: RegistryState) -> Change | None:
            existing = state.subgraphs.get(name)
            current = existing.owner if existing else None
            new_owner = owner_for_change(principal, name, current, owner)
            if (
                existing is not None
                and existing.live
                and (existing.current.routing_url, existing.current.sdl) == (url, sdl)
                and new_owner == existing.owner
            ):
                return None  # nothing to do
            action = "update" if existing is not None and existing.live else "add"
            return Change(name, action, new_owner, url, sdl)

        return await self._change(principal, name, change, force=force, dry_run=dry_run)

    async def _fetch(self, url: str, org: str) -> str:
        """The SDL at `url`, fetched for organisation `org` under its URL patterns."""
        try:
            patterns = (await self.store.url_patterns(org)).get(org, [])
            own = parse_patterns(patterns)
        except ValueError as exc:  # a pattern stored by an older version: refuse, say which
            raise RegistryRefusal(503, "REGISTRY_UNAVAILABLE", f"URL patterns: {exc}") from exc
        try:
            return await self.fetcher.fetch(url, own, self.allowed_urls)
        except UrlNotAllowed as exc:
            raise RegistryRefusal(
                403,
                "URL_NOT_ALLOWED",
                f"url: the registry does not fetch this URL for organisation {org}: "
                f"{exc.reason}. A registry:admin may allow it (`rugzak registry urls {org} "
                "--allow PATTERN`).",
            ) from exc
        except SdlTooLarge as exc:
            raise RegistryRefusal(413, "SDL_TOO_LARGE", str(exc)) from exc
        except SdlUnavailable as exc:
            raise RegistryRefusal(400, "SUBGRAPH_SDL_UNAVAILABLE", str(exc)) from exc

    async def remove(
        self, principal: Principal, name: str, *, force: bool = False, dry_run: bool = False
    ) -> dict[str, Any]:
        check_name(name)

        def change(state: RegistryState) -> Change | None:
            existing = state.subgraphs.get(name)
            if existing is None or not existing.live:
                raise RegistryRefusal(404, "NOT_FOUND", f"no live subgraph named {name}")
            owner_for_change(principal, name, existing.owner, None)
            current = existing.current
            return Change(name, "remove", existing.owner, current.routing_url, current.sdl)

        return await self._change(principal, name, change, force=force, dry_run=dry_run)

    async def rollback(
        self,
        principal: Principal,
        name: str,
        version: Any,
        *,
        force: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Make version `version` of `name` live again (its stored routing URL and SDL)."""
        check_name(name)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise RegistryRefusal(400, "BAD_REQUEST", "version: a version number (1, 2, ...)")
        versions = {v.n: v for v in await self.store.versions(name)}

        def change(state: RegistryState) -> Change | None:
            existing = state.subgraphs.get(name)
            if existing is None:
                raise RegistryRefusal(404, "NOT_FOUND", f"no subgraph named {name}")
            owner_for_change(principal, name, existing.owner, None)
            target = versions.get(version)
            if target is None:
                raise RegistryRefusal(
                    404, "NOT_FOUND", f"{name} has no version {version} (see its history)"
                )
            if target.action == "remove":
                raise RegistryRefusal(
                    400,
                    "BAD_REQUEST",
                    f"version {version} of {name} is a removal: remove the subgraph instead",
                )
            current = existing.current
            if existing.live and (current.routing_url, current.sdl) == (
                target.routing_url,
                target.sdl,
            ):
                return None
            return Change(name, "rollback", existing.owner, target.routing_url, target.sdl, version)

        return await self._change(principal, name, change, force=force, dry_run=dry_run)

    async def _change(
        self,
        principal: Principal,
        name: str,
        make: Callable[[RegistryState], Change | None],
        *,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        async with self._write_lock:
            for _ in range(_ATTEMPTS):
                state = await self._state()
                change = make(state)
                if change is None:
                    return self._unchanged(state, name)
                try:
                    return await self._apply(state, change, principal, force, dry_run)
                except StaleRegistry:
                    continue  # another replica committed meanwhile: again, on its result
        raise RegistryRefusal(
            409, "CONFLICT", "the registry kept changing while this change was made: try again"
        )

    def _unchanged(self, state: RegistryState, name: str) -> dict[str, Any]:
        current = state.subgraphs[name].current
        body: dict[str, Any] = {
            "changed": False,
            "subgraph": name,
            "version": current.n,
            "supergraphVersion": state.version,
            "message": f"nothing to change: that version of {name} is live already",
        }
        return body

    async def _apply(
        self,
        state: RegistryState,
        change: Change,
        principal: Principal,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        name = change.subgraph
        live = state.live()
        sources = [
            SubgraphSource(n, s.current.routing_url, s.current.sdl)
            for n, s in live.items()
            if n != name
        ]
        if change.action != "remove":
            sources.append(SubgraphSource(name, change.routing_url, change.sdl))
        if not sources:
            raise RegistryRefusal(
                409, "NO_SUBGRAPHS", f"removing {name} would leave the gateway nothing to serve"
            )
        owners = {n: s.owner for n, s in live.items()}
        owners[name] = change.owner
        candidate = Candidate(
            tuple(sources),
            name,
            owners if change.action != "remove" else None,
            await self._live_sdl(state.version),
        )
        judged = await self._judge(candidate)
        if isinstance(judged, Refused):
            n = len(judged.errors)
            message = judged.message or (
                f"{name} does not compose with the live subgraphs ({n} error{'s' * (n > 1)})"
            )
            raise RegistryRefusal(409, "COMPOSITION_FAILED", message, errors=judged.errors)
        if judged.violations:
            raise RegistryRefusal(
                409,
                "OWNERSHIP_VIOLATION",
                f"{name} would take fields of another organisation's subgraph",
                errors=judged.violations,
            )
        sdl, compose_ms = judged.supergraph, judged.compose_ms
        breaking, dangerous = judged.breaking, judged.dangerous
        if breaking and not force:
            n = len(breaking)
            raise RegistryRefusal(
                409,
                "BREAKING_CHANGES",
                f"{change.action} of {name} would break clients of the live schema "
                f"({n} breaking change{'s' * (n > 1)}); change the subgraph, or force the change: "
                "`--force` with `rugzak registry`, `force` in the request over HTTP",
                breaking=breaking,
                dangerous=dangerous,
            )
        existing = state.subgraphs.get(name)
        n_next = existing.current.n + 1 if existing is not None else 1
        body: dict[str, Any] = {
            "changed": not dry_run,
            "subgraph": name,
            "action": change.action,
            "version": n_next,
            "owner": change.owner,
            "routingUrl": change.routing_url,
            "forced": bool(breaking),
            "breakingChanges": [c.to_json() for c in breaking],
            "dangerousChanges": [c.to_json() for c in dangerous],
            "composeMs": round(compose_ms, 1),
            "schemaHash": judged.schema_hash,
        }
        if change.from_version is not None:
            body["restoredVersion"] = change.from_version
        if dry_run:
            body["message"] = f"{change.action} of {name} would be accepted"
            return body
        who = principal.subject or "unknown"
        reason = f"{change.action} {name} v{n_next}"
        version = await self.store.commit(
            state.version, [change], sdl, who, reason, forced=bool(breaking)
        )
        await self._serve(version, sdl, time.time())
        body["supergraphVersion"] = version
        body["live"] = self.served_version >= version
        body["message"] = f"{change.action} of {name}: version {n_next} is live"
        log.warning("registry: %s by %s (supergraph version %d)", reason, who, version)
        return body

    async def _judge(self, candidate: Candidate) -> Evaluation | Refused:
        """The candidate judged in the composition worker, never in this process."""
        try:
            return await self.worker.evaluate(candidate)
        except SdlTooLarge as exc:
            raise RegistryRefusal(413, "SDL_TOO_LARGE", str(exc)) from exc
        except CompositionLimitExceeded as exc:
            raise RegistryRefusal(422, "COMPOSITION_LIMIT_EXCEEDED", exc.message) from exc

    # -- URL patterns --------------------------------------------------------------------------

    async def url_patterns(self, principal: Principal) -> dict[str, Any]:
        """Every organisation's patterns for a registry:admin, the caller's own otherwise."""
        check_may_read(principal)
        if principal.has_scope(REGISTRY_ADMIN):
            stored = await self.store.url_patterns()
        else:
            org = principal.organisation
            stored = (await self.store.url_patterns(org)) if org else {}
        return {
            "everyOrganisation": [p.text for p in self.allowed_urls],
            "organisations": stored,
        }

    async def change_url_patterns(
        self, principal: Principal, org: str, allow: Any, forget: Any, clear: Any
    ) -> dict[str, Any]:
        check_may_read(principal)
        if not principal.has_scope(REGISTRY_ADMIN):
            raise RegistryRefusal(
                403, "FORBIDDEN", f"changing allowed URL patterns needs the scope {REGISTRY_ADMIN}"
            )
        if not ORGANISATION.fullmatch(org):
            raise RegistryRefusal(400, "BAD_REQUEST", f"not an organisation code: {org!r}")
        try:
            allowed = [p.text for p in parse_patterns(allow or [])]
            forgotten = [str(p) for p in forget or []]
        except (ValueError, TypeError) as exc:
            raise RegistryRefusal(400, "BAD_URL_PATTERN", str(exc)) from exc
        if not isinstance(clear, bool):
            raise RegistryRefusal(400, "BAD_REQUEST", "clear: true or false")
        who = principal.subject or "unknown"
        patterns = await self.store.change_url_patterns(org, allowed, forgotten, clear, who)
        async with self._swap_lock:  # this replica's guards at once; others' at the next head
            await self._guard()
        log.warning(
            "registry: URL patterns of %s changed by %s: allow %s, forget %s%s",
            org,
            who,
            allowed,
            forgotten,
            " (cleared first)" if clear else "",
        )
        return {"organisation": org, "patterns": patterns}

    async def grant(self, principal: Principal, name: str, claims: Any) -> dict[str, Any]:
        """Grant subgraph `name` these caller claims (a list of names; null: back to the
        default). Only `registry:admin`: what a subgraph learns about citizens is the
        operator's decision, not its owner's."""
        check_name(name)
        if principal.is_anonymous:
            raise RegistryRefusal(401, "UNAUTHENTICATED", "granting claims needs a token")
        if not principal.has_scope(REGISTRY_ADMIN):
            raise RegistryRefusal(
                403, "FORBIDDEN", f"granting claims to a subgraph needs the scope {REGISTRY_ADMIN}"
            )
        granted: frozenset[str] | None = None
        if claims is not None:
            if not isinstance(claims, list):
                raise RegistryRefusal(400, "BAD_REQUEST", "claims: a list of claim names, or null")
            try:
                granted = check_claim_names(claims)
            except ValueError as exc:
                raise RegistryRefusal(400, "BAD_REQUEST", f"claims: {exc}") from None
        who = principal.subject or "unknown"
        async with self._write_lock:
            for _ in range(_ATTEMPTS):
                state = await self._state()
                existing = state.subgraphs.get(name)
                if existing is None or not existing.live:
                    raise RegistryRefusal(404, "NOT_FOUND", f"no live subgraph named {name}")
                found = await self.store.supergraph(state.version)
                if found is None:
                    raise RegistryRefusal(503, "REGISTRY_NOT_READY", "the registry has no head")
                shown = "default" if granted is None else " ".join(sorted(granted)) or "none"
                reason = f"claims of {name}: {shown}"
                try:
                    version = await self.store.set_claims(
                        state.version, name, granted, found[0], who, reason
                    )
                except StaleRegistry:
                    continue
                await self._serve(version, found[0], time.time())
                log.warning("registry: %s, by %s (supergraph version %d)", reason, who, version)
                effective = MINIMAL_CLAIMS if granted is None else granted
                carried = ", ".join(sorted(effective)) or "no caller claims"
                return {
                    "subgraph": name,
                    "claims": sorted(effective),
                    "default": granted is None,
                    "supergraphVersion": version,
                    "message": f"{name}'s tokens now carry: {carried}",
                }
        raise RegistryRefusal(
            409, "CONFLICT", "the registry kept changing while this change was made: try again"
        )

    # -- reading -------------------------------------------------------------------------------

    async def list(self, principal: Principal) -> dict[str, Any]:
        check_may_read(principal)
        state = await self.store.state()
        return {
            "supergraphVersion": state.version,
            "subgraphs": [subgraph_json(n, s.current, s) for n, s in state.subgraphs.items()],
        }

    async def show(self, principal: Principal, name: str) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        versions = await self.store.versions(name)
        if not versions:
            raise RegistryRefusal(404, "NOT_FOUND", f"no subgraph named {name}")
        current = versions[-1]
        body = subgraph_json(name, current, (await self.store.state()).subgraphs.get(name))
        body["sdl"] = current.sdl
        body["versions"] = [version_json(v) for v in versions]
        return body

    async def history(self, principal: Principal, name: str) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        versions = await self.store.versions(name)
        if not versions:
            raise RegistryRefusal(404, "NOT_FOUND", f"no subgraph named {name}")
        return {"subgraph": name, "versions": [version_json(v) for v in versions]}

    async def version(self, principal: Principal, name: str, n: int) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        for v in await self.store.versions(name):
            if v.n == n:
                return {**version_json(v), "sdl": v.sdl}
        raise RegistryRefusal(404, "NOT_FOUND", f"{name} has no version {n}")

    async def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            # the kind only (sqlite, postgresql): never a path, a host or a password
            "backend": self.store.description.split(":", 1)[0],
            "supergraphVersion": await self.store.head(),
            "servedVersion": self.served_version,
            "lastSwap": self.last_swap,
        }
        if self.seed_error:
            body["seedError"] = self.seed_error
        return body


def version_json(v: Version) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": v.n,
        "action": v.action,
        "routingUrl": v.routing_url,
        "owner": v.owner,
        "who": v.who,
        "at": _iso(v.at),
        "supergraphVersion": v.supergraph_version,
        "sdlSha256": hashlib.sha256(v.sdl.encode()).hexdigest(),
    }
    if v.from_version is not None:
        body["restoredVersion"] = v.from_version
    if v.forced:
        body["forced"] = True
    return body


def grants(state: RegistryState) -> dict[str, frozenset[str]]:
    """The claims each live subgraph's tokens carry."""
    return {
        name: MINIMAL_CLAIMS if s.claims is None else s.claims for name, s in state.live().items()
    }


def subgraph_json(name: str, current: Version, subgraph: Subgraph | None = None) -> dict[str, Any]:
    body = {
        "name": name,
        "owner": current.owner,
        "live": current.live,
        "currentVersion": current.n,
        "routingUrl": current.routing_url,
        "lastAction": current.action,
        "lastChangedBy": current.who,
        "lastChangedAt": _iso(current.at),
    }
    if subgraph is not None:
        body["claims"] = sorted(subgraph.claims or ())
        body["claimsDefault"] = subgraph.claims is None
        if subgraph.claims_by is not None and subgraph.claims_at is not None:
            body["claimsChangedBy"] = subgraph.claims_by
            body["claimsChangedAt"] = _iso(subgraph.claims_at)
    return body


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
