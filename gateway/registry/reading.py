"""Reading the registry: its status, its subgraphs, and each one's versions with who changed
what and when, as the JSON the REST API answers with. Reading changes nothing, so it is kept
apart from the operations that do (changes.py, admin_settings.py); every call but `status` needs
a caller who may read the registry (ownership.py's `check_may_read`), and routes.py decides who
may ask for the status.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from auth.principal import Principal
from gateway.registry.errors import RegistryRefusal
from gateway.registry.ownership import check_may_read, check_name
from gateway.registry.service import Registry
from gateway.registry.store import Subgraph, Version


class RegistryReader:
    """What `registry` holds and what this replica serves of it."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def list(self, principal: Principal) -> dict[str, Any]:
        check_may_read(principal)
        state = await self.registry.store.state()
        return {
            "supergraphVersion": state.version,
            "subgraphs": [subgraph_json(n, s.current, s) for n, s in state.subgraphs.items()],
        }

    async def show(self, principal: Principal, name: str) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        versions = await self.registry.store.versions(name)
        if not versions:
            raise RegistryRefusal(404, "NOT_FOUND", f"no subgraph named {name}")
        current = versions[-1]
        body = subgraph_json(name, current, (await self.registry.store.state()).subgraphs.get(name))
        body["sdl"] = current.sdl
        body["versions"] = [version_json(v) for v in versions]
        return body

    async def history(self, principal: Principal, name: str) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        versions = await self.registry.store.versions(name)
        if not versions:
            raise RegistryRefusal(404, "NOT_FOUND", f"no subgraph named {name}")
        return {"subgraph": name, "versions": [version_json(v) for v in versions]}

    async def version(self, principal: Principal, name: str, n: int) -> dict[str, Any]:
        check_may_read(principal)
        check_name(name)
        for v in await self.registry.store.versions(name):
            if v.n == n:
                return {**version_json(v), "sdl": v.sdl}
        raise RegistryRefusal(404, "NOT_FOUND", f"{name} has no version {n}")

    async def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            # the kind only (sqlite, postgresql): never a path, a host or a password
            "backend": self.registry.store.description.split(":", 1)[0],
            "supergraphVersion": await self.registry.store.head(),
            "servedVersion": self.registry.served_version,
            "lastSwap": self.registry.last_swap,
        }
        if self.registry.seed_error:
            body["seedError"] = self.registry.seed_error
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
