"""Who is calling: the verified identity handed to authorisation and to the subgraph fetches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, or `ANONYMOUS`.

    `insz` comes from the verified `rrn` claim (Flemish tokens keep the `sub` opaque); `scopes`
    join the space-separated `scope` claim and the `scp` claim. `claims` holds every verified
    claim, read-only. `token` is the raw bearer token, kept so the gateway can forward it.
    The repr leaves out the token, the INSZ and the claims: they must not end up in logs.
    """

    subject: str | None = None
    insz: str | None = field(default=None, repr=False)
    scopes: frozenset[str] = frozenset()
    issuer: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)
    token: str | None = field(default=None, repr=False)

    @property
    def is_anonymous(self) -> bool:
        """True for a caller that presented no credentials."""
        return self.token is None and self.subject is None and self.insz is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


ANONYMOUS = Principal()
"""The caller without a token."""
