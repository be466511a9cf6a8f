"""Checking the claims of a token whose signature has been verified, and reading the Principal.

Time claims are NumericDates (JSON numbers, not booleans). `exp` is required; `nbf` and `iat`
are honoured when present. Every comparison allows `leeway` seconds of clock skew.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from auth.assurance import normalize_acr
from auth.errors import AuthenticationError, AuthErrorCode
from auth.insz import normalize_insz
from auth.principal import Principal


def _invalid(message: str) -> NoReturn:
    raise AuthenticationError(AuthErrorCode.INVALID_CLAIMS, message)


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        if name in claims:
            _invalid(f"the token's {name} claim must be a number of seconds")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _invalid(f"the token's {name} claim must be a number of seconds")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        _invalid(f"the token's {name} claim must be a finite number of seconds")
    return seconds


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, audience: str, now: float, leeway: float
) -> None:
    """Raise AuthenticationError unless the claims are current and meant for this audience."""
    if claims.get("iss") != issuer:
        raise AuthenticationError(
            AuthErrorCode.UNTRUSTED_ISSUER, "the token's issuer is not trusted"
        )

    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if audiences is None or not all(isinstance(item, str) for item in audiences):
        raise AuthenticationError(
            AuthErrorCode.INVALID_AUDIENCE, "the token has no valid audience (aud) claim"
        )
    if audience not in audiences:
        raise AuthenticationError(
            AuthErrorCode.INVALID_AUDIENCE, "the token is not meant for this service (aud)"
        )

    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf")
    iat = _numeric_date(claims, "iat")
    if exp is None:
        _invalid("the token has no expiry (exp) claim")
    if now >= exp + leeway:
        raise AuthenticationError(AuthErrorCode.TOKEN_EXPIRED, "the token has expired")
    if nbf is not None and now + leeway < nbf:
        raise AuthenticationError(
            AuthErrorCode.TOKEN_NOT_YET_VALID, "the token is not valid yet (nbf)"
        )
    if iat is not None and now + leeway < iat:
        raise AuthenticationError(
            AuthErrorCode.TOKEN_NOT_YET_VALID, "the token was issued in the future (iat)"
        )


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scopes: set[str] = set()
    scope = claims.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            _invalid("the token's scope claim must be a space-separated string")
        scopes.update(scope.split())
    scp = claims.get("scp")
    if scp is not None:
        if isinstance(scp, str):
            scopes.update(scp.split())
        elif isinstance(scp, list) and all(isinstance(item, str) for item in scp):
            scopes.update(item for item in scp if item)
        else:
            _invalid("the token's scp claim must be a string or an array of strings")
    return frozenset(scopes)


def _strings(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    """A claim holding an array of strings (or one space-separated string)."""
    value = claims.get(name)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(item for item in value if item)
    _invalid(f"the token's {name} claim must be a string or an array of strings")


def _text(claims: Mapping[str, Any], *names: str) -> str | None:
    """The first of the claims `names` present, which must be a non-empty string."""
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            _invalid(f"the token's {name} claim must be a non-empty string")
        return value.strip()
    return None


def principal_from_claims(claims: Mapping[str, Any], *, token: str) -> Principal:
    """The Principal of checked claims; the INSZ comes from `rrn` and must pass its check."""
    subject = claims.get("sub")
    if subject is not None and not isinstance(subject, str):
        _invalid("the token's sub claim must be a string")
    rrn = claims.get("rrn")
    insz: str | None = None
    if rrn is not None:
        if not isinstance(rrn, str):
            _invalid("the token's rrn claim must be a string")
        try:
            insz = normalize_insz(rrn)
        except ValueError:
            _invalid("the token's rrn claim is not a valid INSZ")
    issuer = claims.get("iss")
    return Principal(
        subject=subject,
        insz=insz,
        scopes=_scopes(claims),
        issuer=issuer if isinstance(issuer, str) else None,
        claims=MappingProxyType(dict(claims)),
        token=token,
        roles=_strings(claims, "roles"),
        organisation=_text(claims, "org"),
        acr=normalize_acr(_text(claims, "acr")),
        client_id=_text(claims, "azp", "client_id"),
        purpose=_text(claims, "purpose"),
    )
