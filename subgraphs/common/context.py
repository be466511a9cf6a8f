"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.requests import Request

from auth.principal import Principal
from resolvers.common.insz import is_valid_insz
from resolvers.common.sqlite import Session
from subgraphs.common.caching import CacheCollector
from subgraphs.common.invalidation import GatewayInvalidator

L = TypeVar("L", covariant=True)


@dataclass(frozen=True, slots=True)
class RequestContext(Generic[L]):
    request: Request
    principal: Principal
    """Who is calling, from the verified bearer token (ANONYMOUS without one)."""
    session: Session
    """This request's counted store session."""
    loaders: L
    """This request's dataloaders (one batch query per kind of lookup per tick)."""
    cache: CacheCollector = field(default_factory=CacheCollector)
    """What the answer depends on (`cache.tag("Ticket", 7)`) and may be cached for: the
    response's `extensions.cacheTags` and `Cache-Control` (subgraphs/common/caching.py)."""
    invalidator: GatewayInvalidator | None = None
    """Tells the gateway which tags a committed change made stale; None without
    RUGZAK_GATEWAY_URL."""

    @property
    def caller_insz(self) -> str | None:
        """The caller's own INSZ: the verified token's `rrn` claim, or None.

        Never taken from a client argument. A principal without a (valid) INSZ, such as an
        anonymous caller or a civil servant's token, has none.
        """
        if self.principal.is_anonymous:
            return None
        insz = self.principal.insz
        return insz if insz and is_valid_insz(insz) else None
