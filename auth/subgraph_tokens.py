"""The tokens the gateway mints for its subgraph calls, and how a subgraph verifies them.

The client's own bearer token never leaves the gateway. For each subgraph call the gateway sends
instead `authorization: Bearer <token>`, a JWT it signs with its own key (auth/gateway_keys.py):

    header  {"alg": "ES256", "kid": <the gateway key's thumbprint>, "typ": "rugzak-subgraph+jwt"}
    claims  {"iss": <the gateway's issuer id>, "aud": <that subgraph's name>, "iat", "exp",
             and of the caller's claims only those granted to that subgraph}

- short-lived: `ttl` seconds (30 by default), and never past the client token's own `exp`;
- meant for one subgraph: every other subgraph refuses it (`aud`), and the gateway refuses it as a
  client token (`typ`, and its own `iss`), so replaying what a subgraph received gets nowhere;
- holding only the granted claims (`CLAIMS`): `sub`, `rrn`, `org`, `scope`, `roles`, `purpose`,
  `acr`, `client_id`. The operator's subgraphs get them all; a subgraph registered through the
  registry gets `MINIMAL_CLAIMS` (none: nothing about who the caller is) unless `registry:admin`
  grants more. An anonymous caller's token carries no caller claims at all.

Signing costs tens of microseconds, so a minted token is reused for the same caller and subgraph
for the first half of its life (`reuse`), and the request path mostly pays a dictionary lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import Any, Final

from jose import jwt

from auth.gateway_keys import ALGORITHM, GatewayKeys
from auth.principal import Principal
from auth.verifier import SUBGRAPH_TOKEN_TYPE, TokenVerifier, TrustedIssuer

DEFAULT_GATEWAY_ISSUER: Final = "rugzak-gateway"
DEFAULT_TTL_SECONDS: Final = 30
# subgraphs allow this much clock skew on exp/iat: the tokens live seconds, not hours
SUBGRAPH_LEEWAY_SECONDS: Final = 5
CLAIMS: Final = ("sub", "rrn", "org", "scope", "roles", "purpose", "acr", "client_id")
"""The caller's claims a subgraph may be granted, in the order they are written."""
ALL_CLAIMS: Final = frozenset(CLAIMS)
MINIMAL_CLAIMS: Final = frozenset[str]()
IDENTITY_CLAIMS: Final = frozenset({"sub", "rrn"})
"""Claims that name a person (the opaque subject, the INSZ)."""
_MAX_CACHED = 10_000


def check_claim_names(names: Iterable[object]) -> frozenset[str]:
    """The claim names as a set; ValueError naming the first that cannot be granted."""
    found = set()
    for name in names:
        if not isinstance(name, str) or name not in ALL_CLAIMS:
            raise ValueError(
                f"{name!r} is not a claim a subgraph can be granted ({', '.join(CLAIMS)})"
            )
        found.add(name)
    return frozenset(found)


def caller_claims(principal: Principal, granted: frozenset[str]) -> dict[str, Any]:
    """The caller's claims a subgraph granted `granted` gets, normalized as the gateway read them
    (a purpose stated in the x-rugzak-purpose header is the `purpose` claim here)."""
    values: dict[str, Any] = {
        "sub": principal.subject,
        "rrn": principal.insz,
        "org": principal.organisation,
        "scope": " ".join(sorted(principal.scopes)) or None,
        "roles": sorted(principal.roles) or None,
        "purpose": principal.purpose,
        "acr": principal.acr,
        "client_id": principal.client_id,
    }
    return {name: values[name] for name in CLAIMS if name in granted and values[name] is not None}


class SubgraphTokenMinter:
    """Mints (and for a while reuses) the token of one caller for one subgraph."""

    def __init__(
        self,
        keys: GatewayKeys,
        issuer: str = DEFAULT_GATEWAY_ISSUER,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        max_cached: int = _MAX_CACHED,
    ) -> None:
        if not issuer:
            raise ValueError("the gateway's issuer id must not be empty")
        if not 2 <= ttl <= 300:
            raise ValueError("a subgraph token lives 2 to 300 seconds")
        self.keys = keys
        self.issuer = issuer
        self.ttl = ttl
        self._clock = clock
        self._max_cached = max_cached
        # (audience, caller's claims, client token's exp) -> (token, reuse until)
        self._cache: dict[tuple[Any, ...], tuple[str, float]] = {}
        self.minted = 0  # how many were signed (the rest were reused)

    def token(self, principal: Principal, audience: str, granted: frozenset[str]) -> str:
        """The token for `principal`'s calls to subgraph `audience`."""
        claims = caller_claims(principal, granted)
        expires = principal.claims.get("exp")
        key = (audience, *_hashable(claims), expires)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        exp = now + self.ttl
        if isinstance(expires, int | float) and not isinstance(expires, bool):
            # never past the client token's own expiry (floored at 2 s: the gateway may have
            # accepted it within its clock-skew leeway)
            exp = min(exp, max(float(expires), now + 2))
        signing = self.keys.signing_key()
        token: str = jwt.encode(
            {"iss": self.issuer, "aud": audience, "iat": int(now), "exp": int(exp), **claims},
            signing.signer,
            algorithm=ALGORITHM,
            headers={"kid": signing.kid, "typ": SUBGRAPH_TOKEN_TYPE},
        )
        self.minted += 1
        if len(self._cache) >= self._max_cached:  # oldest first: they expire first anyway
            for old in list(islice(self._cache, self._max_cached // 4)):
                del self._cache[old]
        # reused for the first half of its life: a request that starts with it has the other
        # half (15 s by default) to reach the subgraph
        self._cache[key] = (token, min(now + self.ttl / 2, exp))
        return token


def _hashable(claims: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in claims.items())


def subgraph_token_verifier(
    audience: str,
    jwks_url: str,
    issuer: str = DEFAULT_GATEWAY_ISSUER,
    leeway_seconds: int = SUBGRAPH_LEEWAY_SECONDS,
    **options: Any,
) -> TokenVerifier:
    """What a subgraph named `audience` checks the gateway's tokens with: the gateway's JWKS (an
    http(s) URL, such as the gateway's /.well-known/gateway-jwks.json, or a file:// URL), its
    issuer id, ES256, and the token type the gateway writes."""
    trusted = TrustedIssuer(
        issuer=issuer, audience=audience, jwks_url=jwks_url, algorithms=(ALGORITHM,)
    )
    options.setdefault("remember", 10_000)  # the gateway reuses a token for 15 s
    return TokenVerifier(
        [trusted], leeway_seconds=leeway_seconds, token_type=SUBGRAPH_TOKEN_TYPE, **options
    )
