"""Bearer tokens for the load: an RSA key made for the run, its JWKS in a file that Rugzak trusts,
and a pool of distinct RS256 tokens (one subject each), signed with `cryptography` directly (about
1 ms each; the dev issuer's per-token PEM parse would take 70 ms).

The JavaScript gateways forward the Authorization header to the subgraphs without checking it;
Rugzak refuses a token it cannot verify, so it checks every one (RS256, JWKS cached), work the
others skip."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "rugzak-bench"
AUDIENCE = "rugzak-bench"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class TokenPool:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        self._jwk = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
        canonical = json.dumps(self._jwk, sort_keys=True, separators=(",", ":")).encode()
        self.kid = _b64(hashlib.sha256(canonical).digest())

    def write_jwks(self, path: Path) -> Path:
        jwks = {"keys": [{**self._jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        path.write_text(json.dumps(jwks), encoding="utf-8")
        return path

    def mint(self, subject: str, claims: Mapping[str, Any] | None = None, ttl: int = 14400) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "nbf": now,
                "exp": now + ttl, "jti": hashlib.sha1(subject.encode()).hexdigest(),
                **(claims or {})}  # fmt: skip
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def write_tokens(self, path: Path, count: int, claims: Mapping[str, Any] | None = None) -> Path:
        """`count` tokens, one per line, each for its own subject, all with `claims`."""
        lines = [self.mint(f"bench-caller-{i}", claims) for i in range(count)]
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
        return path

    def env(self, jwks_path: Path) -> dict[str, str]:
        """What Rugzak's `serve` (and the reference subgraphs) read to trust these tokens."""
        return {
            "RUGZAK_JWKS_URL": str(jwks_path),
            "RUGZAK_TRUSTED_ISSUER": ISSUER,
            "RUGZAK_AUDIENCE": AUDIENCE,
        }
