"""Signing algorithms we accept, and the public keys of a JWKS document.

Only asymmetric algorithms are ever accepted: a token signed with a shared secret (HS*), or not
signed at all (`none`), can be made by anyone who can read the issuer's public key. Each key is
bound to one key type (and, for EC, one curve) so that a key is only ever used with the family of
algorithm it was published for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from jose import jwk
from jose.exceptions import JOSEError

from auth.token_format import b64url_decode

log = logging.getLogger("rugzak.auth")

ASYMMETRIC_ALGORITHMS: Final = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
"""Every algorithm a TrustedIssuer may list (python-jose verifies these with `cryptography`)."""

_KEY_TYPE: Final = {alg: "RSA" if alg.startswith("RS") else "EC" for alg in ASYMMETRIC_ALGORITHMS}
_EC_CURVE: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_PUBLIC_MEMBERS: Final = {
    "RSA": ("kty", "kid", "alg", "use", "n", "e"),
    "EC": ("kty", "kid", "alg", "use", "crv", "x", "y"),
}
MIN_RSA_BITS: Final = 2048

KNOWN_JOSE_ALGORITHMS: Final = ASYMMETRIC_ALGORITHMS | {
    "none",
    "HS256",
    "HS384",
    "HS512",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
    "ES256K",
}
"""Algorithm names that are safe to repeat in an error message (anything else is not echoed)."""


def describe_algorithm(alg: object) -> str:
    return repr(alg) if isinstance(alg, str) and alg in KNOWN_JOSE_ALGORITHMS else "unrecognised"


def _public_jwk(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The public part of a usable signing JWK, or None when it cannot sign our algorithms."""
    kty = raw.get("kty")
    if kty not in _PUBLIC_MEMBERS or raw.get("use", "sig") != "sig":
        return None
    key_ops = raw.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return None
    public = {name: raw[name] for name in _PUBLIC_MEMBERS[kty] if name in raw}
    for name in ("n", "e") if kty == "RSA" else ("crv", "x", "y"):
        if not isinstance(public.get(name), str):
            return None
    if "kid" in public and not isinstance(public["kid"], str):
        return None
    if "alg" in public and public["alg"] not in ASYMMETRIC_ALGORITHMS:
        return None
    if kty == "EC" and public["crv"] not in _EC_CURVE.values():
        return None
    if kty == "RSA":
        try:  # some issuers pad their base64url; python-jose accepts that too
            bits = int.from_bytes(b64url_decode(public["n"].rstrip("=")), "big").bit_length()
        except ValueError:
            return None
        if bits < MIN_RSA_BITS:
            return None
    return public


def _fits(key: Mapping[str, Any], alg: str) -> bool:
    if key["kty"] != _KEY_TYPE[alg] or key.get("alg", alg) != alg:
        return False
    return key["kty"] != "EC" or bool(key["crv"] == _EC_CURVE[alg])


@dataclass(slots=True)
class KeySet:
    """The usable public keys of one JWKS document, by `kid`."""

    keys: Sequence[Mapping[str, Any]]
    fetched_at: float
    _constructed: dict[tuple[int, str], Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], fetched_at: float) -> KeySet:
        """ValueError when the document is not a JWKS; unusable keys are skipped."""
        raw_keys = document.get("keys")
        if not isinstance(raw_keys, list):
            raise ValueError("a JWKS document has a 'keys' array")
        keys = [
            public
            for raw in raw_keys
            if isinstance(raw, dict) and (public := _public_jwk(raw)) is not None
        ]
        if len(keys) < len(raw_keys):
            log.info(
                "JWKS: skipped %d key(s) that cannot verify signatures", len(raw_keys) - len(keys)
            )
        return cls(keys=keys, fetched_at=fetched_at)

    def find(self, kid: str | None, alg: str) -> Any | None:
        """The python-jose key for `kid` and `alg`, or None.

        Without a `kid`, a key is chosen only when exactly one key fits the algorithm.
        """
        if kid is None:
            candidates = [i for i, key in enumerate(self.keys) if _fits(key, alg)]
        else:
            candidates = [
                i for i, key in enumerate(self.keys) if key.get("kid") == kid and _fits(key, alg)
            ]
        if len(candidates) != 1:
            return None
        index = candidates[0]
        cached = self._constructed.get((index, alg))
        if cached is None:
            try:
                cached = jwk.construct(dict(self.keys[index]), alg)
            except (JOSEError, ValueError, TypeError, KeyError):
                log.warning("JWKS: key %r could not be loaded for %s", kid, alg)
                return None
            self._constructed[(index, alg)] = cached
        return cached
