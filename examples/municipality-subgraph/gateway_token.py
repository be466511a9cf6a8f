"""Checking that a request comes from the Rugzak gateway, and reading who the caller is.

The gateway calls this subgraph with `authorization: Bearer <token>`, a JWT it signed for this
subgraph alone:

    header  {"alg": "ES256", "kid": "...", "typ": "rugzak-subgraph+jwt"}
    claims  {"iss": "rugzak-gateway", "aud": "<this subgraph's name in the registry>",
             "iat": ..., "exp": <30 s later>, and the caller's claims granted to this subgraph}

Its public keys are at GATEWAY/.well-known/gateway-jwks.json. Fetched once, kept for five
minutes, fetched again (at most every ten seconds) when a token names a key not seen yet: the
gateway rotates its keys and publishes a new one before it signs with it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

TOKEN_TYPE = "rugzak-subgraph+jwt"
LEEWAY_SECONDS = 5  # the tokens live 30 s: little clock skew is allowed


class Refused(Exception):
    """Not the gateway's token for this subgraph: `reason` says why (for the 401's body)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class GatewayTokens:
    def __init__(self, jwks_url: str, audience: str, issuer: str = "rugzak-gateway") -> None:
        self.jwks_url = jwks_url
        self.audience = audience
        self.issuer = issuer
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = -1e9
        self._lock = asyncio.Lock()

    async def _key(self, kid: str) -> dict[str, Any]:
        now = time.monotonic()
        stale = now - self._fetched_at > 300
        if kid not in self._keys or stale:
            async with self._lock:
                if (kid not in self._keys and now - self._fetched_at > 10) or stale:
                    async with httpx.AsyncClient(timeout=5) as client:
                        answer = await client.get(self.jwks_url)
                        answer.raise_for_status()
                    self._keys = {k["kid"]: k for k in answer.json()["keys"] if "kid" in k}
                    self._fetched_at = time.monotonic()
        if kid not in self._keys:
            raise Refused("UNKNOWN_SIGNING_KEY", "the token's key is not one of the gateway's")
        return self._keys[kid]

    async def claims(self, authorization: str | None) -> dict[str, Any]:
        """The verified claims of the gateway's token in an Authorization header."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused("GATEWAY_TOKEN_REQUIRED", "this service answers only the gateway")
        try:
            header = jwt.get_unverified_header(token)
        except JWTError:
            raise Refused("MALFORMED_TOKEN", "the token is not a signed JWT") from None
        if header.get("typ") != TOKEN_TYPE:  # e.g. a client's own token, replayed
            raise Refused("WRONG_TOKEN_TYPE", "not a token the gateway minted for a subgraph")
        if header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
            raise Refused("UNSUPPORTED_ALGORITHM", "the gateway signs with ES256 and a kid")
        key = await self._key(header["kid"])
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["ES256"], audience=self.audience, issuer=self.issuer,
                options={"require_exp": True, "leeway": LEEWAY_SECONDS},
            )  # fmt: skip
        except ExpiredSignatureError:
            raise Refused("TOKEN_EXPIRED", "the token has expired") from None
        except JWTClaimsError as error:  # another subgraph's token, another issuer
            raise Refused("INVALID_CLAIMS", str(error)) from None
        except JWTError:
            raise Refused("INVALID_SIGNATURE", "the token's signature does not verify") from None
        return claims
