from __future__ import annotations

import dataclasses

import pytest

from auth import ANONYMOUS, AuthenticationError, AuthErrorCode, Principal


def test_anonymous() -> None:
    assert ANONYMOUS.is_anonymous
    assert Principal() == ANONYMOUS
    assert (ANONYMOUS.subject, ANONYMOUS.insz, ANONYMOUS.token) == (None, None, None)
    assert ANONYMOUS.scopes == frozenset()


def test_principal_is_frozen_hashable_and_keeps_secrets_out_of_repr() -> None:
    principal = Principal(
        subject="opaque-1",
        insz="85073003328",
        scopes=frozenset({"a"}),
        issuer="iss",
        claims={"rrn": "85073003328"},
        token="eyJ.secret.token",
    )
    assert not principal.is_anonymous
    assert principal.has_scope("a") and not principal.has_scope("b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.subject = "other"  # type: ignore[misc]
    assert hash(principal) == hash(dataclasses.replace(principal, claims={}))
    text = repr(principal)
    assert "opaque-1" in text
    assert "secret" not in text and "85073003328" not in text


def test_error_codes_and_http_answers() -> None:
    error = AuthenticationError(AuthErrorCode.TOKEN_EXPIRED, "the token has expired")
    assert error.code == "TOKEN_EXPIRED" and type(error.code) is str
    assert error.message == str(error) == "the token has expired"
    assert error.http_status == 401
    assert error.www_authenticate == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    down = AuthenticationError(AuthErrorCode.AUTH_PROVIDER_UNAVAILABLE, "later")
    assert down.http_status == 503
    assert down.www_authenticate == "Bearer"
    header = AuthenticationError(AuthErrorCode.INVALID_AUTHORIZATION_HEADER, 'say "Bearer"')
    expected = 'Bearer error="invalid_request", error_description="say \'Bearer\'"'
    assert header.www_authenticate == expected
