"""Who is calling: the verified identity handed to authorisation and to the subgraph fetches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    roles: frozenset[str] = frozenset()
    organisation: str | None = None  # municipality NIS code or agency code (`org` claim)
    acr: str | None = None  # assurance level: "low" | "substantial" | "high"
    client_id: str | None = None  # the application that asks (`azp` / `client_id` claim)
    purpose: str | None = None  # why a civil servant reads (claim, or the purpose header)

    @property
    def is_anonymous(self) -> bool:
        """True for a caller that presented no credentials."""
        return self.token is None and self.subject is None and self.insz is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_staff(self) -> bool:
        """A civil servant: a token with the `staff` role."""
        return "staff" in self.roles

    @property
    def is_citizen(self) -> bool:
        """A citizen: a token carrying an INSZ, not a civil servant's."""
        return self.insz is not None and not self.is_staff

    def with_purpose(self, purpose: str) -> Principal:
        return replace(self, purpose=purpose)


ANONYMOUS = Principal()
"""The caller without a token."""
