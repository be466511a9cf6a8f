"""What a subgraph request carries about its caller: a token the gateway minted for that
subgraph (auth/subgraph_tokens.py), never the client's own, and the client headers the
configuration lets through to that subgraph (`--propagate-header NAME=HEADER`; none by default).

The executor asks `headers.for_subgraph(name)` for each call; a request's answer for a subgraph
is kept for its other calls to it, so a query with many fetches mints (or looks up) once per
subgraph.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter

# never passed on, whatever the configuration says: credentials, and what the gateway sets itself
NEVER_PROPAGATED: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "content-type",
        "accept",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "x-rugzak-purpose",  # the purpose travels as a claim of the minted token
        "x-rugzak-signature",
    }
)


class SubgraphHeaders(Protocol):
    """The headers of a request's calls to each subgraph."""

    def for_subgraph(self, service: str) -> Mapping[str, str]: ...


class StaticHeaders:
    """The same headers for every subgraph (tools and tests; no caller identity)."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def for_subgraph(self, service: str) -> Mapping[str, str]:
        return self._headers


def check_propagated(names: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Header names per subgraph, lower-cased; ValueError for one that is never passed on."""
    checked: dict[str, tuple[str, ...]] = {}
    for service, headers in names.items():
        lowered = tuple(dict.fromkeys(h.strip().lower() for h in headers if h.strip()))
        refused = sorted(set(lowered) & NEVER_PROPAGATED)
        if refused:
            raise ValueError(
                f"--propagate-header {service}: {', '.join(refused)} is never passed to a "
                "subgraph (credentials, and headers the gateway sets itself)"
            )
        bad = [h for h in lowered if not h.isascii() or not h.replace("-", "").isalnum()]
        if bad:
            raise ValueError(f"--propagate-header {service}: {bad[0]!r} is not a header name")
        checked[service] = lowered
    return checked


class SubgraphCredentials:
    """The gateway's side: its token minter, the claims each subgraph is granted, the client
    headers each subgraph may see. `grants` may be replaced as the registry changes."""

    def __init__(
        self,
        minter: SubgraphTokenMinter,
        grants: Mapping[str, frozenset[str]] | None = None,
        default_grant: frozenset[str] = ALL_CLAIMS,
        propagate: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.minter = minter
        self.grants: Mapping[str, frozenset[str]] = dict(grants or {})
        self.default_grant = default_grant
        self.propagate = check_propagated(propagate or {})

    def granted(self, service: str) -> frozenset[str]:
        return self.grants.get(service, self.default_grant)

    def for_caller(self, principal: Principal, request_headers: Mapping[str, str]) -> CallerHeaders:
        return CallerHeaders(self, principal, request_headers)


class CallerHeaders:
    """One request's headers for each subgraph it calls."""

    __slots__ = ("_credentials", "_made", "_principal", "_request_headers")

    def __init__(
        self,
        credentials: SubgraphCredentials,
        principal: Principal,
        request_headers: Mapping[str, str],
    ) -> None:
        self._credentials = credentials
        self._principal = principal
        self._request_headers = request_headers
        self._made: dict[str, Mapping[str, str]] = {}

    def for_subgraph(self, service: str) -> Mapping[str, str]:
        made = self._made.get(service)
        if made is None:
            credentials = self._credentials
            headers = {}
            for name in credentials.propagate.get(service, ()):
                value = self._request_headers.get(name)
                if value is not None:
                    headers[name] = value
            token = credentials.minter.token(self._principal, service, credentials.granted(service))
            headers["authorization"] = f"Bearer {token}"
            made = self._made[service] = headers
        return made
