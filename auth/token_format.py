"""Reading a compact JWS *without* trusting it: just enough to pick the issuer, algorithm and key.

Nothing read here is believed until the signature is verified; it only routes the token and
rejects what is malformed early. Parsing is strict: canonical base64url (no padding, no stray
characters), JSON objects only, no duplicate member names (a parser differential would let two
readers see different claims), and no NaN or Infinity.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from auth.errors import AuthenticationError, AuthErrorCode

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def alg(self) -> object:
        return self.header.get("alg")

    @property
    def kid(self) -> object:
        return self.header.get("kid")

    @property
    def issuer(self) -> object:
        return self.claims.get("iss")


def _malformed(detail: str = "") -> NoReturn:
    message = "the bearer token is not a well-formed signed JWT"
    raise AuthenticationError(
        AuthErrorCode.MALFORMED_TOKEN, message + (f": {detail}" if detail else "")
    )


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url; ValueError for anything else."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("not canonical base64url")  # trailing bits set: a second spelling
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate member name")
        result[key] = value
    return result


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Strictly parse a UTF-8 JSON object; ValueError for anything else."""
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def parse_unverified(token: str, *, max_bytes: int) -> UnverifiedToken:
    """Split and decode a compact JWS; the size limit is checked before anything is parsed."""
    if len(token) > max_bytes or len(token.encode("utf-8", "surrogatepass")) > max_bytes:
        raise AuthenticationError(
            AuthErrorCode.TOKEN_TOO_LARGE, f"the bearer token is larger than {max_bytes} bytes"
        )
    parts = token.split(".")
    if len(parts) != 3:
        _malformed("a signed JWT has three dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = parse_json_object(b64url_decode(header_b64))
    except ValueError:
        _malformed("the header is not a base64url JSON object")
    try:
        claims = parse_json_object(b64url_decode(payload_b64))
    except ValueError:
        _malformed("the payload is not a base64url JSON object")
    try:
        if signature_b64:  # an empty one (alg "none") is refused by the algorithm check
            b64url_decode(signature_b64)
    except ValueError:
        _malformed("the signature is not base64url")
    if "crit" in header:
        # RFC 7515 4.1.11: extensions we do not understand must make the token invalid.
        _malformed("the token requires header extensions (crit) that are not supported")
    if header.get("b64") is not None or "enc" in header:
        _malformed("only JWS with a plain JSON payload are accepted")
    return UnverifiedToken(header=header, claims=claims)
