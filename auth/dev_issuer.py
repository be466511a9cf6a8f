"""A local development identity provider for the demo and the tests. Never trust it in production.

Its RSA 2048 signing key lives in `<directory>/signing-key.pem` (mode 0600, directory 0700),
created on first use. The key id is the key's RFC 7638 thumbprint, so it is stable across runs.
`load_or_create` also keeps `<directory>/jwks.json` (public keys only) up to date, so a gateway
can trust the issuer with RUGZAK_JWKS_URL=<directory>/jwks.json.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from auth.assurance import ACR_LEVELS
from auth.key_files import write_private, write_public
from auth.verifier import DEFAULT_AUDIENCE, DEFAULT_ISSUER

log = logging.getLogger("rugzak.auth")

# `rugzak demo` keeps its state (this issuer's key among it) in one place per user, so that
# `rugzak token` finds the demo's issuer from any folder
DEMO_DIR_ENV = "RUGZAK_DEMO_DIR"
KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"
ALGORITHM = "RS256"


def demo_dir() -> Path:
    """The demo's state: $RUGZAK_DEMO_DIR, else rugzak/demo in the user's data directory
    ($XDG_DATA_HOME, else ~/.local/share)."""
    configured = os.environ.get(DEMO_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(data_home) if data_home else Path.home() / ".local" / "share") / "rugzak" / "demo"


def demo_issuer_dir() -> Path:
    """Where the demo's development issuer keeps its key, and `rugzak token` looks for it."""
    return demo_dir() / "dev-issuer"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class DevIssuer:
    """Mints RS256 tokens shaped like the Flemish identity provider's (`rrn` holds the INSZ)."""

    issuer: str
    audience: str
    kid: str

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
    ) -> None:
        self._private_key = private_key
        self._signing_key = jwk.construct(private_key, ALGORITHM)  # reused: no PEM parse per token
        self._private_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        numbers = private_key.public_key().public_numbers()
        self._public_jwk = {
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }
        self.issuer = issuer
        self.audience = audience
        self.kid = self._thumbprint()

    def _thumbprint(self) -> str:
        """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
        canonical = json.dumps(self._public_jwk, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @classmethod
    def generate(
        cls, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
    ) -> DevIssuer:
        """A fresh issuer whose key is kept in memory only."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, issuer=issuer, audience=audience)

    @classmethod
    def load_or_create(
        cls, directory: Path, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
    ) -> DevIssuer:
        """The issuer whose key is in `directory` (created, with its key, when missing)."""
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path = directory / KEY_FILE
        if not key_path.exists():
            fresh = cls.generate(issuer=issuer, audience=audience)
            if write_private(key_path, fresh._private_pem.encode("ascii")):
                fresh.write_jwks(directory / JWKS_FILE)
                return fresh
        try:
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            loaded = None
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} does not hold an unencrypted RSA private key (PEM)")
        found = cls(loaded, issuer=issuer, audience=audience)
        jwks_path = directory / JWKS_FILE
        try:
            current = json.loads(jwks_path.read_text("utf-8"))
        except (OSError, ValueError):
            current = None
        if current != found.jwks():
            try:
                found.write_jwks(jwks_path)
            except OSError as exc:  # minting still works; only the convenience copy is stale
                log.warning("cannot update %s: %s", jwks_path, exc.strerror)
        return found

    def jwks(self) -> dict[str, Any]:
        """The JWKS document: the public key only."""
        return {"keys": [{**self._public_jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}]}

    def write_jwks(self, path: Path) -> None:
        """Write the JWKS to `path` (atomically); `path.as_uri()` is then a file:// JWKS URL."""
        write_public(Path(path), json.dumps(self.jwks(), indent=2) + "\n")

    def sign(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None) -> str:
        """Sign arbitrary claims with RS256 and this issuer's kid (tests use it for odd tokens)."""
        all_headers = {"kid": self.kid, "typ": "JWT", **(headers or {})}
        token: str = jwt.encode(
            dict(claims), self._private_pem, algorithm=ALGORITHM, headers=all_headers
        )
        return token

    def mint(
        self,
        *,
        subject: str,
        insz: str | None = None,
        scopes: Sequence[str] = (),
        ttl: int = 3600,
        extra_claims: Mapping[str, Any] | None = None,
        roles: Sequence[str] = (),
        organisation: str | None = None,
        acr: str | None = None,
        purpose: str | None = None,
        client_id: str | None = None,
    ) -> str:
        """A signed access token for `subject`, valid for `ttl` seconds from now.

        Each keyword lands in the claim `auth.claims` reads it from: `insz` -> `rrn`, `scopes`
        -> `scope` (space-separated), `roles` -> `roles` (an array; `staff` makes a civil
        servant), `organisation` -> `org` (a municipality's NIS code), `acr`, `purpose`, and
        `client_id` -> `client_id` (RFC 9068). `extra_claims` are added last, as they are.
        """
        if ttl <= 0:
            raise ValueError("ttl must be a positive number of seconds")
        if acr is not None and acr not in ACR_LEVELS:
            raise ValueError(f"acr must be one of {', '.join(ACR_LEVELS)}")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if insz is not None:
            claims["rrn"] = insz
        if scopes:
            claims["scope"] = " ".join(scopes)
        if roles:
            claims["roles"] = list(dict.fromkeys(roles))
        optional = {"org": organisation, "acr": acr, "purpose": purpose, "client_id": client_id}
        claims.update({name: value for name, value in optional.items() if value is not None})
        claims.update(extra_claims or {})
        return self.sign(claims)
