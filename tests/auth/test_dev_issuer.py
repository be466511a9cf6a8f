from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from jose import jwt

from auth.dev_issuer import DevIssuer
from auth.verifier import TokenVerifier, TrustedIssuer

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def verifier_for(issuer: DevIssuer, jwks_path: Path) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(issuer.issuer, issuer.audience, jwks_path.as_uri())])


def test_load_or_create_persists_one_key(tmp_path: Path) -> None:
    directory = tmp_path / "dev-issuer"
    first = DevIssuer.load_or_create(directory)
    key_file = directory / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    pem = key_file.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")

    second = DevIssuer.load_or_create(directory)
    assert key_file.read_bytes() == pem  # never overwritten
    assert second.kid == first.kid
    assert second.jwks() == first.jwks()
    assert json.loads((directory / "jwks.json").read_text()) == first.jwks()
    assert (first.issuer, first.audience) == ("rugzak-dev-issuer", "rugzak")


def test_jwks_holds_the_public_key_only(tmp_path: Path) -> None:
    issuer = DevIssuer.load_or_create(tmp_path)
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] == issuer.kid
    assert not PRIVATE_MEMBERS & key.keys()
    written = tmp_path / "copy.json"
    issuer.write_jwks(written)
    assert json.loads(written.read_text()) == issuer.jwks()


def test_a_removed_jwks_file_is_written_again(tmp_path: Path) -> None:
    issuer = DevIssuer.load_or_create(tmp_path)
    (tmp_path / "jwks.json").unlink()
    DevIssuer.load_or_create(tmp_path)
    assert json.loads((tmp_path / "jwks.json").read_text()) == issuer.jwks()


async def test_minted_tokens_verify_across_loads(tmp_path: Path) -> None:
    created = DevIssuer.load_or_create(tmp_path)
    minted = created.mint(
        subject="opaque-7", insz="85073003328", scopes=["profile:read", "tickets:write"], ttl=120
    )
    principal = await verifier_for(
        DevIssuer.load_or_create(tmp_path), tmp_path / "jwks.json"
    ).verify(minted)
    assert principal.subject == "opaque-7"
    assert principal.insz == "85073003328"
    assert principal.scopes == {"profile:read", "tickets:write"}
    claims = principal.claims
    assert claims["exp"] - claims["iat"] == 120
    assert abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(minted)["kid"] == created.kid


def test_mint_claims(tmp_path: Path) -> None:
    issuer = DevIssuer.load_or_create(tmp_path, issuer="https://dev.example.test", audience="aud-x")
    one = jwt.get_unverified_claims(issuer.mint(subject="s", extra_claims={"purpose": "demo"}))
    two = jwt.get_unverified_claims(issuer.mint(subject="s"))
    assert one["iss"] == "https://dev.example.test" and one["aud"] == "aud-x"
    assert one["purpose"] == "demo"
    assert "rrn" not in one and "scope" not in one
    assert one["jti"] != two["jti"]
    header = jwt.get_unverified_header(issuer.mint(subject="s"))
    assert header == {"alg": "RS256", "kid": issuer.kid, "typ": "JWT"}
    with pytest.raises(ValueError):
        issuer.mint(subject="s", ttl=0)


def test_generate_keeps_the_key_in_memory(tmp_path: Path) -> None:
    a, b = DevIssuer.generate(), DevIssuer.generate()
    assert a.kid != b.kid
    assert list(tmp_path.iterdir()) == []


def test_a_broken_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "signing-key.pem").write_text("not a key")
    with pytest.raises(ValueError, match="RSA private key"):
        DevIssuer.load_or_create(tmp_path)
