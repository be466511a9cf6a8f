"""The gateway's own signing keys, for the tokens it mints for its subgraphs (ES256, P-256).

A directory holds one PEM file per key (private, mode 0600; the directory 0700):

    <dir>/key-<creation time, ns since the epoch, 20 digits>.pem
    <dir>/jwks.json      the public keys, for subgraphs that read the JWKS from a file

Each key's `kid` is its RFC 7638 thumbprint. Every key in the directory is published (JWKS); the
newest one signs once it is `activation` seconds old (20 by default), so that a subgraph has seen
it published before it meets a token signed with it (a subgraph refetches the JWKS when a token
names an unknown kid, at most once per 10 s). Until then the previous key signs; a key that is
the only one signs at once.

Rotation (`rugzak gateway-keys rotate`): a new key is added and all but the newest `keep` are
removed. A gateway looks at the directory again every `recheck` seconds (its modification time),
so rotating needs no restart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk

from auth.key_files import write_private, write_public

log = logging.getLogger("rugzak.auth")

ALGORITHM: Final = "ES256"
JWKS_FILE: Final = "jwks.json"
DEFAULT_ACTIVATION_SECONDS: Final = 20.0
DEFAULT_RECHECK_SECONDS: Final = 5.0
_KEY_FILE = re.compile(r"key-(\d{20})\.pem")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One P-256 key: its kid, when it was made, the python-jose key that signs with it and the
    public JWK published for it."""

    kid: str
    created: float  # unix seconds
    signer: Any = field(repr=False)
    public_jwk: dict[str, str] = field(repr=False)

    @classmethod
    def from_private(cls, private: ec.EllipticCurvePrivateKey, created: float) -> SigningKey:
        if not isinstance(private.curve, ec.SECP256R1):
            raise ValueError("a gateway key is a P-256 (secp256r1) key")
        numbers = private.public_key().public_numbers()
        public = {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        canonical = json.dumps(public, sort_keys=True, separators=(",", ":"))
        kid = _b64url(hashlib.sha256(canonical.encode("ascii")).digest())
        pem = _pem(private).decode("ascii")
        published = {**public, "kid": kid, "alg": ALGORITHM, "use": "sig"}
        return cls(kid, created, jwk.construct(pem, ALGORITHM), published)

    @classmethod
    def generate(cls, created: float | None = None) -> SigningKey:
        return cls.from_private(
            ec.generate_private_key(ec.SECP256R1()), time.time() if created is None else created
        )


def _pem(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _read_key(path: Path, created: float) -> SigningKey:
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        loaded = None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an unencrypted EC private key (PEM)")
    return SigningKey.from_private(loaded, created)


def _key_files(directory: Path) -> list[tuple[Path, float]]:
    """The key files of `directory`, oldest first, with their creation times."""
    found = []
    for path in directory.iterdir():
        match = _KEY_FILE.fullmatch(path.name)
        if match:
            found.append((path, int(match.group(1)) / 1e9))
    return sorted(found, key=lambda item: item[1])


def create_key(directory: Path, clock: Callable[[], float] = time.time) -> SigningKey:
    """A new key in `directory` (made, mode 0700, when missing)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    created_ns = int(clock() * 1e9)
    while not write_private(directory / f"key-{created_ns:020d}.pem", _pem(private)):
        created_ns += 1  # another key was made in the same nanosecond: never overwrite it
    return SigningKey.from_private(private, created_ns / 1e9)


class GatewayKeys:
    """The keys the gateway signs with and publishes."""

    def __init__(
        self,
        keys: Sequence[SigningKey],
        *,
        directory: Path | None = None,
        activation: float = DEFAULT_ACTIVATION_SECONDS,
        recheck: float = DEFAULT_RECHECK_SECONDS,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not keys:
            raise ValueError("the gateway needs at least one signing key")
        self._keys = sorted(keys, key=lambda k: k.created)
        self._directory = directory
        self._activation = activation
        self._recheck = recheck
        self._clock = clock
        self._monotonic = monotonic
        self._checked_at = monotonic()
        self._stamp = self._directory_stamp()

    @classmethod
    def generate(cls, **options: Any) -> GatewayKeys:
        """One fresh key, in memory only (tests, benchmarks)."""
        return cls([SigningKey.generate()], **options)

    @classmethod
    def load_or_create(cls, directory: Path, **options: Any) -> GatewayKeys:
        """The keys in `directory`; a first key is made when it holds none. ValueError for a
        file that is not a usable key."""
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _key_files(directory):
            create_key(directory)
        keys = cls(cls._read(directory), directory=directory, **options)
        keys.write_jwks()
        return keys

    @staticmethod
    def _read(directory: Path) -> list[SigningKey]:
        return [_read_key(path, created) for path, created in _key_files(directory)]

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        self._maybe_reload()
        return tuple(self._keys)

    def signing_key(self) -> SigningKey:
        """The newest key that is at least `activation` seconds old, else the oldest."""
        self._maybe_reload()
        now = self._clock()
        for key in reversed(self._keys):
            if now - key.created >= self._activation:
                return key
        return self._keys[0]

    def jwks(self) -> dict[str, Any]:
        """The JWKS document: every key's public part."""
        return {"keys": [dict(key.public_jwk) for key in self.keys]}

    def write_jwks(self) -> None:
        """`<dir>/jwks.json`, for subgraphs that read the gateway's keys from a file."""
        if self._directory is None:
            return
        path = self._directory / JWKS_FILE
        text = json.dumps(self.jwks(), indent=2) + "\n"
        try:
            if path.exists() and path.read_text("utf-8") == text:
                return
            write_public(path, text)
        except OSError as exc:  # signing still works; only the file's copy is stale
            log.warning("cannot update %s: %s", path, exc.strerror)

    def _directory_stamp(self) -> int | None:
        if self._directory is None:
            return None
        try:
            return os.stat(self._directory).st_mtime_ns
        except OSError:
            return None

    def _maybe_reload(self) -> None:
        """Read the directory again when it changed (checked every `recheck` seconds)."""
        if self._directory is None or self._monotonic() - self._checked_at < self._recheck:
            return
        self._checked_at = self._monotonic()
        stamp = self._directory_stamp()
        if stamp == self._stamp:
            return
        try:
            keys = self._read(self._directory)
        except (OSError, ValueError) as exc:
            log.error("gateway keys: %s; signing with the keys read before", exc)
            return
        if not keys:
            log.error("gateway keys: %s holds no key; signing with the keys read before",
                      self._directory)  # fmt: skip
            return
        self._stamp = stamp
        if [k.kid for k in keys] != [k.kid for k in self._keys]:
            log.warning("gateway keys: now %s", ", ".join(k.kid[:12] for k in keys))
        self._keys = keys
        self.write_jwks()


def rotate(directory: Path, keep: int = 2, clock: Callable[[], float] = time.time) -> SigningKey:
    """Add a key to `directory` and remove all but the newest `keep` (at least 2: the key that
    signs until the new one is active must stay published)."""
    if keep < 2:
        raise ValueError("keep at least 2 keys: the new one and the one signing until it is active")
    directory = Path(directory)
    new = create_key(directory, clock)
    files = _key_files(directory)
    for path, _ in files[: max(0, len(files) - keep)]:
        path.unlink(missing_ok=True)
    GatewayKeys(GatewayKeys._read(directory), directory=directory).write_jwks()
    return new
