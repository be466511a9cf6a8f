"""Tokens as the gateway mints them for subgraphs (its key, its issuer, its token type), for
tests that talk to a subgraph directly: the same `mint(...)` as the development issuer's, so a
test says who is calling the way the gateway would tell the subgraph."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jose import jwt

from auth.gateway_keys import ALGORITHM, GatewayKeys
from auth.subgraph_tokens import DEFAULT_GATEWAY_ISSUER
from auth.verifier import SUBGRAPH_TOKEN_TYPE

# the audience the test subgraphs accept (RUGZAK_SUBGRAPH_AUDIENCE): one token serves all three
TEST_AUDIENCE = "subgraph-tests"


class GatewayIssuer:
    def __init__(self, directory: Path, audience: str = TEST_AUDIENCE) -> None:
        self.directory = directory
        self.keys = GatewayKeys.load_or_create(directory)
        self.audience = audience
        self.issuer = DEFAULT_GATEWAY_ISSUER

    @property
    def jwks_url(self) -> str:
        return (self.directory / "jwks.json").as_uri()

    def env(self) -> dict[str, str]:
        """What a subgraph is told to trust these tokens."""
        return {"RUGZAK_GATEWAY_JWKS_URL": self.jwks_url, "RUGZAK_SUBGRAPH_AUDIENCE": self.audience}

    def sign(self, claims: Mapping[str, Any], keys: GatewayKeys | None = None) -> str:
        key = (keys or self.keys).signing_key()
        token: str = jwt.encode(
            dict(claims),
            key.signer,
            algorithm=ALGORITHM,
            headers={"kid": key.kid, "typ": SUBGRAPH_TOKEN_TYPE},
        )
        return token

    def mint(
        self,
        *,
        subject: str | None = None,
        insz: str | None = None,
        scopes: Sequence[str] = (),
        ttl: int = 3600,
        extra_claims: Mapping[str, Any] | None = None,
        roles: Sequence[str] = (),
        organisation: str | None = None,
        acr: str | None = None,
        purpose: str | None = None,
        client_id: str | None = None,
        audience: str | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        optional = {
            "sub": subject,
            "rrn": insz,
            "scope": " ".join(scopes) or None,
            "roles": list(dict.fromkeys(roles)) or None,
            "org": organisation,
            "acr": acr,
            "purpose": purpose,
            "client_id": client_id,
        }
        claims.update({name: value for name, value in optional.items() if value is not None})
        claims.update(extra_claims or {})
        return self.sign(claims)
