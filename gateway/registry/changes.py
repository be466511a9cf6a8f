"""Changing which subgraphs the registry holds: add or update, remove, roll back, or only check.

A change is made in this order: read the registry (its head version and live subgraphs); fetch
the new SDL (add/update) under the owner's URL patterns; compose it with the other live
subgraphs in the composition worker; check the ownership rule (ownership.py); compare the new API
schema with the live one (breaking.py); then, unless it is only a check, commit the version and
the supergraph in one transaction that succeeds only if the head has not moved (else all of it
again, on the newer registry), and serve the new supergraph (`Registry.serve`). Who may make a
change is ownership.py's `owner_for_change`, asked before anything is fetched for the caller.
These are the registry's domain operations; routes.py turns HTTP requests into calls of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from auth.principal import Principal
from gateway.composition import SubgraphSource
from gateway.registry.candidate import Candidate, Evaluation, Refused
from gateway.registry.errors import RegistryRefusal
from gateway.registry.fetch import SdlUnavailable
from gateway.registry.limits import SdlTooLarge
from gateway.registry.ownership import check_name, owner_for_change
from gateway.registry.service import COMMIT_ATTEMPTS, Registry
from gateway.registry.store import Change, RegistryState, StaleRegistry
from gateway.registry.url_policy import UrlNotAllowed, parse_patterns
from gateway.registry.worker import CompositionLimitExceeded

log = logging.getLogger("rugzak.registry")


class SubgraphChanges:
    """The changes callers make to `registry`'s subgraphs."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

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
        state = await self.registry.ready_state()
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
            patterns = (await self.registry.store.url_patterns(org)).get(org, [])
            own = parse_patterns(patterns)
        except ValueError as exc:  # a pattern stored by an older version: refuse, say which
            raise RegistryRefusal(503, "REGISTRY_UNAVAILABLE", f"URL patterns: {exc}") from exc
        try:
            return await self.registry.fetcher.fetch(url, own, self.registry.allowed_urls)
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
        versions = {v.n: v for v in await self.registry.store.versions(name)}

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
        async with self.registry.write_lock:
            for _ in range(COMMIT_ATTEMPTS):
                state = await self.registry.ready_state()
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
        version = await self.registry.store.commit(
            state.version, [change], sdl, who, reason, forced=bool(breaking)
        )
        await self.registry.serve(version, sdl, time.time())
        body["supergraphVersion"] = version
        body["live"] = self.registry.served_version >= version
        body["message"] = f"{change.action} of {name}: version {n_next} is live"
        log.warning("registry: %s by %s (supergraph version %d)", reason, who, version)
        return body

    async def _judge(self, candidate: Candidate) -> Evaluation | Refused:
        """The candidate judged in the composition worker, never in this process."""
        try:
            return await self.registry.worker.evaluate(candidate)
        except SdlTooLarge as exc:
            raise RegistryRefusal(413, "SDL_TOO_LARGE", str(exc)) from exc
        except CompositionLimitExceeded as exc:
            raise RegistryRefusal(422, "COMPOSITION_LIMIT_EXCEEDED", exc.message) from exc

    async def _live_sdl(self, version: int) -> str:
        found = await self.registry.store.supergraph(version)
        return self.registry.gateway.supergraph.sdl if found is None else found[0]
