"""The verification rules, with real keys and a file:// JWKS."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk

from auth.errors import AuthErrorCode
from auth.keys import KeySet
from auth.principal import ANONYMOUS
from auth.verifier import TokenVerifier, TrustedIssuer
from tests.auth.helpers import (
    AUDIENCE,
    INSZ,
    ISSUER,
    FakeMonotonic,
    JwksServer,
    Signer,
    b64json,
    b64url,
    claims,
    expect_error,
    hs256_token,
    jwks,
    now,
    unsigned_token,
)

C = AuthErrorCode


def make_verifier(jwks_path: Path, **kwargs: Any) -> TokenVerifier:
    algorithms = kwargs.pop("algorithms", ("RS256", "ES256"))
    issuer = TrustedIssuer(ISSUER, AUDIENCE, jwks_path.as_uri(), algorithms=algorithms)
    return TokenVerifier([issuer], **kwargs)


@pytest.fixture
def verifier(jwks_file: Path) -> TokenVerifier:
    return make_verifier(jwks_file)


# --- good tokens -----------------------------------------------------------------------------


async def test_valid_rs256_token_gives_the_principal(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    token = rsa_signer.sign(claims(scope="profile:read tickets:write", scp=["extra"]))
    principal = await verifier.verify(token)
    assert principal.subject == "opaque-subject-1"
    assert principal.insz == INSZ
    assert principal.scopes == {"profile:read", "tickets:write", "extra"}
    assert principal.issuer == ISSUER
    assert principal.token == token
    assert principal.claims["aud"] == AUDIENCE
    assert not principal.is_anonymous
    with pytest.raises(TypeError):
        principal.claims["sub"] = "someone else"  # type: ignore[index]


async def test_valid_es256_token(verifier: TokenVerifier, ec_signer: Signer) -> None:
    principal = await verifier.verify(ec_signer.sign(claims(scope=None, scp="a b")))
    assert principal.subject == "opaque-subject-1"
    assert principal.scopes == {"a", "b"}


async def test_es384_with_a_p384_key(tmp_path: Path) -> None:
    signer = Signer.ec("ec-384", ec.SECP384R1(), alg="ES384")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(signer)))
    verifier = make_verifier(path, algorithms=("ES384",))
    assert (await verifier.verify(signer.sign(claims()))).insz == INSZ


async def test_token_without_kid_uses_the_only_fitting_key(
    tmp_path: Path, rsa_signer: Signer, ec_signer: Signer
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(rsa_signer, ec_signer)))
    unnamed = Signer(rsa_signer.alg, None, rsa_signer.private_pem, rsa_signer.public_pem, {})
    assert (await make_verifier(path).verify(unnamed.sign(claims()))).subject


async def test_audience_may_be_a_list(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    await verifier.verify(rsa_signer.sign(claims(aud=["other", AUDIENCE])))


async def test_token_without_identity_claims(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    principal = await verifier.verify(rsa_signer.sign(claims(sub=None, rrn=None, scope=None)))
    assert (principal.subject, principal.insz, principal.scopes) == (None, None, frozenset())
    assert not principal.is_anonymous  # it carries a verified token


# --- time ------------------------------------------------------------------------------------


async def test_expired(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(iat=now() - 4000, nbf=now() - 4000, exp=now() - 100))
    await expect_error(verifier.verify(token), C.TOKEN_EXPIRED, token=token)


async def test_expiry_within_the_leeway_is_accepted(jwks_file: Path, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(iat=now() - 600, nbf=now() - 600, exp=now() - 10))
    await make_verifier(jwks_file, leeway_seconds=30).verify(token)
    await expect_error(
        make_verifier(jwks_file, leeway_seconds=0).verify(token), C.TOKEN_EXPIRED, token=token
    )


async def test_not_yet_valid(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(nbf=now() + 300, exp=now() + 900))
    await expect_error(verifier.verify(token), C.TOKEN_NOT_YET_VALID, token=token)


async def test_nbf_within_the_leeway_is_accepted(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    await verifier.verify(rsa_signer.sign(claims(nbf=now() + 10)))


async def test_issued_in_the_future(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(iat=now() + 300, nbf=None, exp=now() + 900))
    await expect_error(verifier.verify(token), C.TOKEN_NOT_YET_VALID, token=token)


async def test_missing_exp(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(exp=None))
    error = await expect_error(verifier.verify(token), C.INVALID_CLAIMS, token=token)
    assert "exp" in error.message


@pytest.mark.parametrize("exp", ["tomorrow", True, None, [1], {"at": 1}, 10**400, -(10**400)])
async def test_exp_of_the_wrong_type(verifier: TokenVerifier, rsa_signer: Signer, exp: Any) -> None:
    payload = claims()
    payload["exp"] = exp
    token = rsa_signer.sign(payload)
    await expect_error(verifier.verify(token), C.INVALID_CLAIMS, token=token)


async def test_exp_nan_is_not_json(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(exp=math.nan))
    await expect_error(verifier.verify(token), C.MALFORMED_TOKEN, token=token)


async def test_fake_clock_decides(jwks_file: Path, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(iat=1_000, nbf=1_000, exp=2_000))
    await make_verifier(jwks_file, clock=lambda: 1_500.0).verify(token)
    await expect_error(
        make_verifier(jwks_file, clock=lambda: 2_030.0).verify(token), C.TOKEN_EXPIRED
    )
    await expect_error(
        make_verifier(jwks_file, clock=lambda: 900.0).verify(token), C.TOKEN_NOT_YET_VALID
    )


# --- audience and issuer ---------------------------------------------------------------------


async def test_wrong_audience(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(aud="some-other-service"))
    await expect_error(verifier.verify(token), C.INVALID_AUDIENCE, token=token)


@pytest.mark.parametrize("aud", [None, 42, ["other", 7], []])
async def test_missing_or_malformed_audience(
    verifier: TokenVerifier, rsa_signer: Signer, aud: Any
) -> None:
    token = rsa_signer.sign(claims(aud=aud))
    await expect_error(verifier.verify(token), C.INVALID_AUDIENCE, token=token)


@pytest.mark.parametrize("iss", ["https://evil.example.test", None, 17, ["x"]])
async def test_untrusted_issuer(verifier: TokenVerifier, rsa_signer: Signer, iss: Any) -> None:
    token = rsa_signer.sign(claims(iss=iss))
    await expect_error(verifier.verify(token), C.UNTRUSTED_ISSUER, token=token)


async def test_issuer_claim_cannot_borrow_another_issuers_trust(
    tmp_path: Path, rsa_signer: Signer, other_rsa_signer: Signer
) -> None:
    """Issuer B signs a token claiming to be A: A's JWKS has no such key."""
    a_path, b_path = tmp_path / "a.json", tmp_path / "b.json"
    a_path.write_text(json.dumps(jwks(rsa_signer)))
    b_path.write_text(json.dumps(jwks(other_rsa_signer)))
    verifier = TokenVerifier(
        [
            TrustedIssuer(ISSUER, AUDIENCE, a_path.as_uri()),
            TrustedIssuer("https://b.example.test", AUDIENCE, b_path.as_uri()),
        ]
    )
    await verifier.verify(other_rsa_signer.sign(claims(iss="https://b.example.test")))
    token = other_rsa_signer.sign(claims())  # iss A, kid of B
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    forged = other_rsa_signer.with_kid("rsa-1").sign(claims())  # iss A, A's kid, B's key
    await expect_error(verifier.verify(forged), C.INVALID_SIGNATURE, token=forged)


# --- algorithms ------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none(verifier: TokenVerifier, alg: str) -> None:
    token = unsigned_token(claims(), alg=alg)
    await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)


async def test_alg_none_with_a_signature_part(verifier: TokenVerifier) -> None:
    token = unsigned_token(claims()) + b64url(b"anything")
    await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)


async def test_hs256_signed_with_the_public_key_as_secret(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    """The classic confusion attack: the public key (PEM, or JWK n) used as an HMAC secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    for secret in (rsa_signer.public_pem.encode(), rsa_signer.public_jwk["n"].encode()):
        token = hs256_token(header, claims(), secret)
        error = await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)
        assert "'HS256'" in error.message


def _public_key_forms(signer: Signer) -> dict[str, bytes]:
    """The RSA public key in each form an attacker might guess the server uses as a secret."""
    key = serialization.load_pem_public_key(signer.public_pem.encode())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pkcs1 = serialization.PublicFormat.PKCS1
    der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
    return {
        "DER SubjectPublicKeyInfo": key.public_bytes(der, spki),
        "DER PKCS#1": key.public_bytes(der, pkcs1),
        "PEM PKCS#1": key.public_bytes(pem, pkcs1),
        "PEM without its last newline": signer.public_pem.encode().rstrip(b"\n"),
        "JWK JSON": json.dumps(signer.public_jwk).encode(),
    }


@pytest.mark.parametrize(
    "form",
    [
        "DER SubjectPublicKeyInfo",
        "DER PKCS#1",
        "PEM PKCS#1",
        "PEM without its last newline",
        "JWK JSON",
    ],
)
@pytest.mark.parametrize("kid", ["rsa-1", None])
async def test_hs256_signed_with_the_public_key_in_other_forms(
    jwks_server: JwksServer, rsa_signer: Signer, form: str, kid: str | None
) -> None:
    """The same attack with the key's DER bytes, its PKCS#1 PEM, ...: refused before any key is
    looked at, with the issuer's JWKS served over loopback HTTP."""
    verifier = TokenVerifier([TrustedIssuer(ISSUER, AUDIENCE, jwks_server.url)])
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    token = hs256_token(header, claims(), _public_key_forms(rsa_signer)[form])
    error = await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)
    assert "'HS256'" in error.message
    await expect_error(verifier.authenticate(f"Bearer {token}"), C.UNSUPPORTED_ALGORITHM)
    assert jwks_server.requests == 0
    await verifier.verify(rsa_signer.sign(claims()))  # the issuer itself is trusted and reachable
    assert jwks_server.requests == 1


async def test_symmetric_algorithms_cannot_be_configured() -> None:
    for algs in (("HS256",), ("RS256", "HS512"), ("none",), ()):
        with pytest.raises(ValueError):
            TrustedIssuer(ISSUER, AUDIENCE, "https://idp.example.test/jwks", algorithms=algs)


async def test_alg_outside_the_issuers_list(jwks_file: Path, rsa_signer: Signer) -> None:
    verifier = make_verifier(jwks_file, algorithms=("ES256",))
    token = rsa_signer.sign(claims())
    await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)


@pytest.mark.parametrize("alg", ["PS256", "EdDSA", "RS1", "<script>alert(1)</script>", 256, None])
async def test_other_algorithms(verifier: TokenVerifier, alg: Any) -> None:
    header: dict[str, Any] = {"typ": "JWT", "kid": "rsa-1"}
    if alg is not None:
        header["alg"] = alg
    token = f"{b64json(header)}.{b64json(claims())}.{b64url(b'sig')}"
    error = await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)
    assert "<script>" not in error.message


async def test_header_alg_must_fit_the_key_type(verifier: TokenVerifier, ec_signer: Signer) -> None:
    """An RS256 header naming the EC key's kid finds no RSA key with that kid."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "ec-1"}
    good = ec_signer.sign(claims())
    token = f"{b64json(header)}.{good.split('.', 1)[1]}"
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)


async def test_ec_curve_must_fit_the_algorithm(tmp_path: Path) -> None:
    p384 = Signer.ec("ec-384", ec.SECP384R1(), alg="ES384")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(p384)))
    token = p384.sign(claims(), headers={"alg": "ES256"}, alg="ES384")
    header = {"alg": "ES256", "typ": "JWT", "kid": "ec-384"}
    token = f"{b64json(header)}.{token.split('.', 1)[1]}"
    await expect_error(make_verifier(path).verify(token), C.UNKNOWN_SIGNING_KEY, token=token)


# --- keys and signatures ---------------------------------------------------------------------


async def test_tampered_payload(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    header, _, signature = rsa_signer.sign(claims()).split(".")
    token = f"{header}.{b64json(claims(rrn='93051822361'))}.{signature}"
    await expect_error(verifier.verify(token), C.INVALID_SIGNATURE, token=token)


async def test_signed_by_another_key_under_our_kid(
    verifier: TokenVerifier, other_rsa_signer: Signer
) -> None:
    token = other_rsa_signer.with_kid("rsa-1").sign(claims())
    await expect_error(verifier.verify(token), C.INVALID_SIGNATURE, token=token)


async def test_empty_signature(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    header, payload, _ = rsa_signer.sign(claims()).split(".")
    token = f"{header}.{payload}."
    await expect_error(verifier.verify(token), C.INVALID_SIGNATURE, token=token)


async def test_unknown_kid_refetches_once_then_fails(
    jwks_file: Path, other_rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(jwks_file, monotonic=clock)
    cache = verifier.jwks_cache(ISSUER)
    token = other_rsa_signer.sign(claims())
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert cache.fetch_count == 1  # the first fetch was just now: no refetch allowed yet
    clock.advance(11)
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert cache.fetch_count == 2  # exactly one refetch
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert cache.fetch_count == 2  # rate-limited


async def test_non_string_kid(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(), headers={"kid": 1})
    await expect_error(verifier.verify(token), C.MALFORMED_TOKEN, token=token)


async def test_small_rsa_keys_are_not_trusted(tmp_path: Path) -> None:
    weak = Signer.rsa("weak", bits=1024)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(weak)))
    token = weak.sign(claims())
    await expect_error(make_verifier(path).verify(token), C.UNKNOWN_SIGNING_KEY, token=token)


async def test_keys_for_encryption_or_of_unknown_type_are_ignored(
    tmp_path: Path, rsa_signer: Signer
) -> None:
    path = tmp_path / "jwks.json"
    document = {
        "keys": [
            {**rsa_signer.public_jwk, "use": "enc"},
            {"kty": "oct", "kid": "rsa-1", "k": b64url(b"secret")},
        ]
    }
    path.write_text(json.dumps(document))
    token = rsa_signer.sign(claims())
    await expect_error(make_verifier(path).verify(token), C.UNKNOWN_SIGNING_KEY, token=token)


# --- size and garbage ------------------------------------------------------------------------


async def test_oversized_token(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(padding="x" * 9000))
    await expect_error(verifier.verify(token), C.TOKEN_TOO_LARGE, token=token)


async def test_oversized_garbage_is_refused_before_parsing(jwks_file: Path) -> None:
    verifier = make_verifier(jwks_file, max_token_bytes=100)
    await expect_error(verifier.verify("!" * 101), C.TOKEN_TOO_LARGE)
    await expect_error(verifier.verify("é" * 60), C.TOKEN_TOO_LARGE)  # 120 bytes
    await expect_error(verifier.verify("!" * 100), C.MALFORMED_TOKEN)


def _garbage() -> list[str]:
    good_header = b64json({"alg": "RS256", "kid": "rsa-1"})
    good_payload = b64json(claims())
    sig = b64url(b"x" * 256)
    duplicate_alg = b64url(b'{"alg":"none","alg":"RS256"}')
    return [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "....",
        "a.b.c.d.e",
        f"{good_header}.{good_payload}.{sig}.{sig}.{sig}",  # JWE shape
        "ü.ü.ü",
        f"{good_header}=.{good_payload}.{sig}",  # padding
        f"{good_header}.{good_payload}.{sig}+/",  # not url-safe
        f"{b64url(b'not json')}.{good_payload}.{sig}",
        f"{b64json(['alg', 'RS256'])}.{good_payload}.{sig}",
        f"{good_header}.{b64json([1, 2])}.{sig}",
        f"{good_header}.{b64url(b'{}}')}.{sig}",
        f"{good_header}.{b64url(bytes([0xFF, 0xFE]))}.{sig}",
        f"{duplicate_alg}.{good_payload}.{sig}",
        f"{good_header}.{b64url(b'[' * 2000 + b']' * 2000)}.{sig}",
        f"{b64json({'alg': 'RS256', 'kid': 'rsa-1', 'crit': ['exp']})}.{good_payload}.{sig}",
        f"{b64json({'alg': 'RS256', 'kid': 'rsa-1', 'b64': False})}.{good_payload}.{sig}",
    ]


@pytest.mark.parametrize("token", _garbage())
async def test_garbage(verifier: TokenVerifier, token: str) -> None:
    await expect_error(verifier.verify(token), C.MALFORMED_TOKEN, token=token)


# --- identity claims -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rrn", "85073003329"),
        ("rrn", "8507300332"),
        ("rrn", 85073003328),
        ("sub", 42),
        ("scope", ["a", "b"]),
        ("scp", [1]),
        ("scp", {"a": True}),
    ],
)
async def test_identity_claims_of_the_wrong_shape(
    verifier: TokenVerifier, rsa_signer: Signer, name: str, value: Any
) -> None:
    token = rsa_signer.sign(claims(**{name: value}))
    await expect_error(verifier.verify(token), C.INVALID_CLAIMS, token=token)


# --- the Authorization header ----------------------------------------------------------------


async def test_no_credentials_is_anonymous(verifier: TokenVerifier) -> None:
    assert await verifier.authenticate(None) is ANONYMOUS
    assert await verifier.authenticate("") is ANONYMOUS
    assert ANONYMOUS.is_anonymous


async def test_bearer_header(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims())
    for header in (f"Bearer {token}", f"bearer {token}", f"BEARER  {token} "):
        assert (await verifier.authenticate(header)).token == token


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token abc",
        " ",
        "Bearer\tabc",
        "abc",
    ],
)
async def test_malformed_authorization_header(verifier: TokenVerifier, header: str) -> None:
    error = await expect_error(verifier.authenticate(header), C.INVALID_AUTHORIZATION_HEADER)
    assert "dXNlcjpwYXNz" not in error.message
    assert error.www_authenticate.startswith('Bearer error="invalid_request"')


async def test_bearer_with_a_bad_token(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    token = rsa_signer.sign(claims(exp=now() - 3600, iat=now() - 7200, nbf=None))
    error = await expect_error(
        verifier.authenticate(f"Bearer {token}"), C.TOKEN_EXPIRED, token=token
    )
    assert error.http_status == 401
    assert error.www_authenticate.startswith('Bearer error="invalid_token"')


# --- configuration ---------------------------------------------------------------------------


def test_trusted_issuer_validation() -> None:
    TrustedIssuer(ISSUER, AUDIENCE, "https://idp.example.test/jwks")
    TrustedIssuer(ISSUER, AUDIENCE, "file:///etc/rugzak/jwks.json")
    for url in ("ftp://x/jwks", "jwks.json", "file://host/jwks.json", "https:///jwks", ""):
        with pytest.raises(ValueError):
            TrustedIssuer(ISSUER, AUDIENCE, url)
    with pytest.raises(ValueError):
        TrustedIssuer("", AUDIENCE, "https://idp.example.test/jwks")


def test_verifier_validation() -> None:
    issuer = TrustedIssuer(ISSUER, AUDIENCE, "https://idp.example.test/jwks")
    with pytest.raises(ValueError):
        TokenVerifier([])
    with pytest.raises(ValueError):
        TokenVerifier([issuer, issuer])
    with pytest.raises(ValueError):
        TokenVerifier([issuer], leeway_seconds=-1)


# --- file:// JWKS problems -------------------------------------------------------------------


@pytest.mark.parametrize("content", [None, "not json", '{"no": "keys"}'])
async def test_unreadable_jwks_file(
    tmp_path: Path, rsa_signer: Signer, content: str | None
) -> None:
    path = tmp_path / "jwks.json"
    if content is not None:
        path.write_text(content)
    token = rsa_signer.sign(claims())
    error = await expect_error(
        make_verifier(path).verify(token), C.AUTH_PROVIDER_UNAVAILABLE, token=token
    )
    assert str(tmp_path) not in error.message


async def test_private_members_of_a_published_key_are_dropped(rsa_signer: Signer) -> None:
    private = jwk.construct(rsa_signer.private_pem, "RS256").to_dict()
    keys = KeySet.from_document({"keys": [{**private, "kid": "leaked"}]}, fetched_at=0.0)
    (published,) = keys.keys
    assert set(published) <= {"kty", "kid", "alg", "use", "n", "e"}
    key = keys.find("leaked", "RS256")
    assert key is not None and key.is_public()


async def test_oversized_authorization_header(verifier: TokenVerifier) -> None:
    await expect_error(verifier.authenticate("Bearer " + "a " * 10_000), C.TOKEN_TOO_LARGE)


async def test_padded_base64_in_a_published_key_is_accepted(
    tmp_path: Path, rsa_signer: Signer
) -> None:
    padded = {**rsa_signer.public_jwk, "n": rsa_signer.public_jwk["n"] + "=="}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [padded]}))
    assert (await make_verifier(path).verify(rsa_signer.sign(claims()))).subject
