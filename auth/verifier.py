"""Bearer token verification: the gateway's one entry point into authentication.

`TokenVerifier.authenticate(authorization_header)` returns a `Principal` or raises
`AuthenticationError` (see `auth.errors` for the codes). The steps, in order:

1. size limit (before anything is parsed), then a strict parse of the unverified compact JWS;
2. the header's `alg` must be one of the issuer's explicitly listed asymmetric algorithms
   (never `none` or HS*), checked here before python-jose sees the token;
3. the unverified `iss` picks the TrustedIssuer; an unknown issuer is refused without any fetch;
4. the `kid` picks the key from that issuer's JWKS (see `auth.jwks` for caching and the
   rate-limited refetch on an unknown `kid`);
5. python-jose verifies the signature with that one key and `algorithms=[alg]`;
6. the verified claims are checked (`iss`, `aud`, `exp` required, `nbf`, `iat`, with leeway).

Token types (the JWS header's `typ`, RFC 8725 3.11): the tokens the gateway mints for its
subgraphs say `typ: rugzak-subgraph+jwt`. A verifier of client tokens refuses that type whoever
signed it, so a subgraph cannot replay what it received at the gateway even if the gateway were
told to trust its own issuer; a verifier built with `token_type` (a subgraph's) accepts only it.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from jose import jws
from jose.exceptions import JOSEError

from auth.claims import check_claims, principal_from_claims
from auth.errors import AuthenticationError, AuthErrorCode
from auth.jwks import JwksCache, check_jwks_url
from auth.keys import ASYMMETRIC_ALGORITHMS, describe_algorithm
from auth.principal import ANONYMOUS, Principal
from auth.token_format import parse_json_object, parse_unverified

_WHITESPACE = re.compile(r"\s")  # one search, not a Python loop over the token's characters

DEFAULT_ISSUER = "rugzak-dev-issuer"  # what verifier_from_env and DevIssuer assume by default
DEFAULT_AUDIENCE = "rugzak"
SUBGRAPH_TOKEN_TYPE = "rugzak-subgraph+jwt"  # `typ` of the tokens the gateway mints for subgraphs


@dataclass(frozen=True)
class TrustedIssuer:
    """An identity provider whose tokens are accepted for `audience`, with keys at `jwks_url`."""

    issuer: str
    audience: str
    jwks_url: str  # http(s):// URL or file:// URL of a JWKS JSON document
    algorithms: tuple[str, ...] = ("RS256", "ES256")

    def __post_init__(self) -> None:
        if not self.issuer or not self.audience:
            raise ValueError("a trusted issuer needs a non-empty issuer and audience")
        if not self.algorithms:
            raise ValueError("a trusted issuer needs at least one algorithm")
        refused = sorted(set(self.algorithms) - ASYMMETRIC_ALGORITHMS)
        if refused:
            allowed = sorted(ASYMMETRIC_ALGORITHMS)
            raise ValueError(f"algorithms {refused} are not accepted; choose from {allowed}")
        check_jwks_url(self.jwks_url)


class TokenVerifier:
    """Verifies bearer tokens from a fixed set of trusted issuers."""

    def __init__(
        self,
        issuers: Sequence[TrustedIssuer],
        *,
        http: httpx.AsyncClient | None = None,
        leeway_seconds: int = 30,
        max_token_bytes: int = 8192,
        jwks_ttl_seconds: float = 300,
        min_refetch_interval_seconds: float = 10.0,
        jwks_stale_if_error_seconds: float = 3600.0,
        jwks_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        token_type: str | None = None,
        remember: int = 0,
    ) -> None:
        """`token_type`: accept only tokens whose header says this `typ` (None: client tokens,
        which may say anything but the gateway's own SUBGRAPH_TOKEN_TYPE). `remember`: keep
        that many verified tokens until they expire, so a token shown again costs a lookup (a
        subgraph sees the same short-lived gateway token many times)."""
        if not issuers:
            raise ValueError("a TokenVerifier needs at least one trusted issuer")
        if leeway_seconds < 0 or max_token_bytes <= 0:
            raise ValueError("leeway_seconds must be >= 0 and max_token_bytes > 0")
        self._issuers: dict[str, tuple[TrustedIssuer, JwksCache]] = {}
        for trusted in issuers:
            if trusted.issuer in self._issuers:
                raise ValueError("each issuer may be trusted only once")
            cache = JwksCache(
                trusted.jwks_url,
                http=http,
                ttl=jwks_ttl_seconds,
                min_refetch_interval=min_refetch_interval_seconds,
                stale_if_error=jwks_stale_if_error_seconds,
                timeout=jwks_timeout_seconds,
                monotonic=monotonic,
            )
            self._issuers[trusted.issuer] = (trusted, cache)
        self._leeway = leeway_seconds
        self._max_token_bytes = max_token_bytes
        self._clock = clock
        self._token_type = token_type.lower() if token_type is not None else None
        self._remember = remember
        self._remembered: dict[str, tuple[Principal, float]] = {}

    @property
    def issuers(self) -> tuple[TrustedIssuer, ...]:
        return tuple(trusted for trusted, _ in self._issuers.values())

    def jwks_cache(self, issuer: str) -> JwksCache:
        """The JWKS cache of a trusted issuer (for metrics and tests)."""
        return self._issuers[issuer][1]

    async def aclose(self) -> None:
        """Stop JWKS fetches under way; the verifier stays usable (it fetches again when needed)."""
        for _, cache in self._issuers.values():
            await cache.aclose()

    async def authenticate(self, authorization: str | None) -> Principal:
        """The Principal for an Authorization header value: none or empty -> ANONYMOUS."""
        if authorization is None or authorization == "":
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip(" ")
        malformed = scheme.lower() != "bearer" or not token
        if not malformed and len(token) <= self._max_token_bytes:  # oversized: verify refuses
            malformed = _WHITESPACE.search(token) is not None
        if malformed:
            raise AuthenticationError(
                AuthErrorCode.INVALID_AUTHORIZATION_HEADER,
                "the Authorization header must be 'Bearer <token>'",
            )
        return await self.verify(token)

    async def verify(self, token: str) -> Principal:
        """Verify a bearer token and return its Principal; AuthenticationError otherwise."""
        if self._remember:
            known = self._remembered.get(token)
            if known is not None and self._clock() < known[1]:
                return known[0]
            principal = await self._verify(token)
            if len(self._remembered) >= self._remember:  # oldest first: they expire first
                for old in list(itertools.islice(self._remembered, self._remember // 4 + 1)):
                    del self._remembered[old]
            self._remembered[token] = (principal, float(principal.claims["exp"]))
            return principal
        return await self._verify(token)

    async def _verify(self, token: str) -> Principal:
        unverified = parse_unverified(token, max_bytes=self._max_token_bytes)
        self._check_type(unverified.header.get("typ"))

        alg = unverified.alg
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
            raise AuthenticationError(
                AuthErrorCode.UNSUPPORTED_ALGORITHM,
                f"tokens signed with the {describe_algorithm(alg)} algorithm are not accepted",
            )
        entry = self._issuers.get(unverified.issuer) if isinstance(unverified.issuer, str) else None
        if entry is None:
            raise AuthenticationError(
                AuthErrorCode.UNTRUSTED_ISSUER, "the token's issuer (iss) is not trusted"
            )
        trusted, cache = entry
        if alg not in trusted.algorithms:
            raise AuthenticationError(
                AuthErrorCode.UNSUPPORTED_ALGORITHM,
                f"this issuer's tokens signed with {alg!r} are not accepted",
            )
        kid = unverified.kid
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError(
                AuthErrorCode.MALFORMED_TOKEN, "the token's key id (kid) must be a string"
            )

        key = (await cache.current()).find(kid, alg)
        if key is None:
            refreshed = await cache.refresh_for_unknown_key()
            if refreshed is not None:
                key = refreshed.find(kid, alg)
        if key is None:
            raise AuthenticationError(
                AuthErrorCode.UNKNOWN_SIGNING_KEY,
                "the token was signed with a key its issuer does not publish",
            )

        claims = self._verified_claims(token, key, alg)
        check_claims(
            claims,
            issuer=trusted.issuer,
            audience=trusted.audience,
            now=self._clock(),
            leeway=self._leeway,
        )
        return principal_from_claims(claims, token=token)

    def _check_type(self, typ: object) -> None:
        # media type names compare case-insensitively (RFC 7515 4.1.9)
        stated = typ.lower() if isinstance(typ, str) else None
        if self._token_type is None:
            if stated == SUBGRAPH_TOKEN_TYPE:
                raise AuthenticationError(
                    AuthErrorCode.WRONG_TOKEN_TYPE,
                    "a token the gateway made for a subgraph is not a client token",
                )
        elif stated != self._token_type:
            raise AuthenticationError(
                AuthErrorCode.WRONG_TOKEN_TYPE,
                "this service accepts only the tokens the gateway makes for it",
            )

    @staticmethod
    def _verified_claims(token: str, key: Any, alg: str) -> dict[str, Any]:
        try:
            payload = jws.verify(token, key, algorithms=[alg])
        except (JOSEError, ValueError, TypeError):
            raise AuthenticationError(
                AuthErrorCode.INVALID_SIGNATURE, "the token's signature is not valid"
            ) from None
        try:
            return parse_json_object(payload)
        except (ValueError, TypeError):
            raise AuthenticationError(
                AuthErrorCode.MALFORMED_TOKEN, "the token's payload is not a JSON object"
            ) from None


def verifier_from_env(
    env: Mapping[str, str] = os.environ, *, trusted_issuers: str | None = None
) -> TokenVerifier | None:
    """The TokenVerifier configured in `env`, or None when no issuer is (no authentication).

    Several issuers come from RUGZAK_TRUSTED_ISSUERS (a JSON array or @FILE), or from
    `trusted_issuers` (`rugzak serve --trusted-issuers`), which replaces the environment's; one
    from RUGZAK_JWKS_URL (a URL or a plain file path), RUGZAK_TRUSTED_ISSUER and RUGZAK_AUDIENCE,
    whose defaults fit the development issuer. RUGZAK_TOKEN_LEEWAY_SECONDS and
    RUGZAK_MAX_TOKEN_BYTES apply to all. See `auth.config`; a bad setting is a ValueError that
    says which and why.
    """
    from auth.config import settings_from_env  # auth.config builds on this module

    return settings_from_env(env, trusted_issuers=trusted_issuers).verifier()
