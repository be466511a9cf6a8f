"""What only a registry:admin decides about the subgraphs organisations register: the URLs each
organisation may register them at (its URL patterns, beside the operator's own for every
organisation) and the caller claims each subgraph's tokens carry (grants). They are kept apart
from changes.py because they are the operator's decisions, not an owner's: every call here
needs the scope `registry:admin`, except reading one's own organisation's URL patterns. A change
here takes effect on this replica at once, on the others when the registry's head next moves.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from auth.principal import Principal
from auth.subgraph_tokens import MINIMAL_CLAIMS, check_claim_names
from gateway.registry.errors import RegistryRefusal
from gateway.registry.ownership import ORGANISATION, REGISTRY_ADMIN, check_may_read, check_name
from gateway.registry.service import COMMIT_ATTEMPTS, Registry
from gateway.registry.store import StaleRegistry
from gateway.registry.url_policy import parse_patterns

log = logging.getLogger("rugzak.registry")


class AdminSettings:
    """`registry`'s URL patterns and grants, read and changed."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def url_patterns(self, principal: Principal) -> dict[str, Any]:
        """Every organisation's patterns for a registry:admin, the caller's own otherwise."""
        check_may_read(principal)
        if principal.has_scope(REGISTRY_ADMIN):
            stored = await self.registry.store.url_patterns()
        else:
            org = principal.organisation
            stored = (await self.registry.store.url_patterns(org)) if org else {}
        return {
            "everyOrganisation": [p.text for p in self.registry.allowed_urls],
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
        store = self.registry.store
        patterns = await store.change_url_patterns(org, allowed, forgotten, clear, who)
        # this replica's guards at once; others' at the next head
        async with self.registry.swap_lock:
            await self.registry.guard()
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
        async with self.registry.write_lock:
            for _ in range(COMMIT_ATTEMPTS):
                state = await self.registry.ready_state()
                existing = state.subgraphs.get(name)
                if existing is None or not existing.live:
                    raise RegistryRefusal(404, "NOT_FOUND", f"no live subgraph named {name}")
                found = await self.registry.store.supergraph(state.version)
                if found is None:
                    raise RegistryRefusal(503, "REGISTRY_NOT_READY", "the registry has no head")
                shown = "default" if granted is None else " ".join(sorted(granted)) or "none"
                reason = f"claims of {name}: {shown}"
                try:
                    version = await self.registry.store.set_claims(
                        state.version, name, granted, found[0], who, reason
                    )
                except StaleRegistry:
                    continue
                await self.registry.serve(version, found[0], time.time())
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
