"""An HMAC-SHA256 signature over an HTTP request: how a subgraph signs the cache invalidations it
sends the gateway, with a key of its own (auth/invalidation_keys.py).

    x-rugzak-signature: t=<unix seconds>,v1=<64 hex digits>

`v1` is HMAC-SHA256(key, message) with the message

    <t> LF <METHOD> LF <target> LF <x-rugzak-subgraph> LF <body bytes>

`target` is the path and query the receiver gets (`/cache/invalidate`); `x-rugzak-subgraph` is
the sender's name (empty when absent). The body is signed as the exact bytes sent.

A verifier accepts a request when `t` is within `window` seconds of its clock (60 by default: a
captured request can be replayed only that long) and one `v1` matches one of its keys, compared
in constant time. Several keys allow rotation: a signer signs with one, a verifier accepts any.
Keys are at least 32 bytes.

(The gateway's own calls to subgraphs carry no such signature: each carries a token the gateway
minted for that subgraph alone, auth/subgraph_tokens.py. A secret shared by every subgraph would
let any of them call the others as the gateway.)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Final

SIGNATURE_HEADER: Final = "x-rugzak-signature"
SUBGRAPH_HEADER: Final = "x-rugzak-subgraph"  # who signs
# the headers a signature covers (lower-case names), in the order they are signed
SIGNED_HEADERS: Final = (SUBGRAPH_HEADER,)
MIN_SECRET_BYTES: Final = 32
DEFAULT_WINDOW_SECONDS: Final = 60
MAX_HEADER_LENGTH: Final = 1024  # a header longer than this is refused unparsed
_HEX_DIGITS: Final = frozenset("0123456789abcdef")


class SignatureErrorCode(StrEnum):
    GATEWAY_SIGNATURE_REQUIRED = "GATEWAY_SIGNATURE_REQUIRED"
    INVALID_GATEWAY_SIGNATURE = "INVALID_GATEWAY_SIGNATURE"


class GatewaySignatureError(Exception):
    """A request carries no valid signature; `code` is a `SignatureErrorCode` value."""

    code: str
    message: str

    def __init__(self, code: SignatureErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message


def check_secrets(secrets: Sequence[bytes]) -> tuple[bytes, ...]:
    """The secrets as a tuple; ValueError when there are none or one is under 32 bytes."""
    if not secrets:
        raise ValueError("no signing key given")
    for secret in secrets:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"a signing key or secret must be at least {MIN_SECRET_BYTES} bytes,"
                f" one has {len(secret)}"
            )
    return tuple(secrets)


def parse_secrets(text: str) -> tuple[bytes, ...]:
    """Secrets written comma- or newline-separated (surrounding blanks ignored), first first."""
    items = (item.strip() for line in text.splitlines() for item in line.split(","))
    return check_secrets([item.encode() for item in items if item])


def secrets_from_env(
    variable: str, file_variable: str, env: Mapping[str, str] = os.environ
) -> tuple[bytes, ...]:
    """The secrets in `variable` or the file named in `file_variable`; () when neither is set.
    ValueError when both are, or a secret is too short; OSError for the file."""
    value = env.get(variable, "").strip()
    path = env.get(file_variable, "").strip()
    if value and path:
        raise ValueError(f"set {variable} or {file_variable}, not both")
    if path:
        return parse_secrets(Path(path).read_text(encoding="utf-8"))
    return parse_secrets(value) if value else ()


def _prefix(timestamp: int, method: str, target: str, headers: Mapping[str, str]) -> bytes:
    fields = [str(timestamp), method.upper(), target, *(headers.get(h, "") for h in SIGNED_HEADERS)]
    for field in fields:
        if "\n" in field:  # would make two different requests sign the same message
            raise ValueError("a signed request field contains a line feed")
    return ("\n".join(fields) + "\n").encode("latin-1")


class GatewaySigner:
    """Signs requests with one secret (the first of a rotation list)."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        # keyed once: each signature copies it (cheaper than keying HMAC per request)
        self._mac = hmac.new(check_secrets([secret])[0], digestmod=hashlib.sha256)
        self._clock = clock

    def sign(self, method: str, target: str, body: bytes, headers: Mapping[str, str]) -> str:
        """The `x-rugzak-signature` value for a request; `headers` keys are lower-case."""
        timestamp = int(self._clock())
        mac = self._mac.copy()
        mac.update(_prefix(timestamp, method, target, headers))
        mac.update(body)
        return f"t={timestamp},v1={mac.hexdigest()}"


class GatewaySignatureVerifier:
    """Checks signatures against any of several secrets, within a time window."""

    def __init__(
        self,
        secrets: Sequence[bytes],
        window: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window <= 0:
            raise ValueError("the signature window must be positive")
        self._macs = [hmac.new(s, digestmod=hashlib.sha256) for s in check_secrets(secrets)]
        self._window = window
        self._clock = clock

    def verify(
        self,
        signature: str | None,
        method: str,
        target: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        """Return when `signature` (the header's value) is valid, else raise
        GatewaySignatureError. `headers` is looked up by lower-case name."""
        if not signature:
            raise GatewaySignatureError(
                SignatureErrorCode.GATEWAY_SIGNATURE_REQUIRED,
                "the request carries no signature (x-rugzak-signature)",
            )
        timestamp, candidates = _parse(signature)
        if abs(self._clock() - timestamp) > self._window:
            raise _invalid("the signature is too old or from the future (clock skew?)")
        try:
            prefix = _prefix(timestamp, method, target, headers)
        except ValueError:
            raise _invalid("the request cannot carry a valid signature") from None
        expected = []
        for keyed in self._macs:
            mac = keyed.copy()
            mac.update(prefix)
            mac.update(body)
            expected.append(mac.hexdigest())
        # every pair is compared, so the time taken says nothing about which part matched
        matched = False
        for candidate in candidates:
            for digest in expected:
                matched |= hmac.compare_digest(candidate, digest)
        if not matched:
            raise _invalid("the signature does not match the request")


def _invalid(message: str) -> GatewaySignatureError:
    return GatewaySignatureError(SignatureErrorCode.INVALID_GATEWAY_SIGNATURE, message)


def _parse(signature: str) -> tuple[int, list[str]]:
    """`t=<digits>,v1=<hex>[,v1=<hex>...]`; other keys are ignored (later versions)."""
    malformed = _invalid("the signature is malformed")
    if len(signature) > MAX_HEADER_LENGTH:
        raise malformed
    timestamp: int | None = None
    candidates: list[str] = []
    for part in signature.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise malformed
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                raise malformed
            if len(value) > 12:
                raise malformed
            timestamp = int(value)
        elif key == "v1":
            if len(value) != 64 or not _HEX_DIGITS.issuperset(value):
                raise malformed
            candidates.append(value)
    if timestamp is None or not candidates:
        raise malformed
    return timestamp, candidates
