"""The tokens the gateway mints for subgraphs: what they hold, who accepts them, for how long,
and key rotation by kid. Real keys, real signatures, JWKS read from files and over HTTP."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from jose import jwt

from auth.errors import AuthErrorCode
from auth.gateway_keys import GatewayKeys, SigningKey, rotate
from auth.principal import Principal
from auth.subgraph_tokens import (
    ALL_CLAIMS,
    MINIMAL_CLAIMS,
    SubgraphTokenMinter,
    check_claim_names,
    subgraph_token_verifier,
)
from auth.verifier import SUBGRAPH_TOKEN_TYPE, TokenVerifier, TrustedIssuer
from tests.auth.helpers import INSZ, JwksServer, Signer, claims, expect_error

ANN = Principal(
    subject="opaque-ann",
    insz=INSZ,
    scopes=frozenset({"profile:read", "tickets:read"}),
    issuer="https://idp.example.test",
    claims={"exp": time.time() + 3600},
    token="client.token.itself",
    roles=frozenset({"staff"}),
    organisation="44021",
    acr="substantial",
    client_id="citizen-portal",
    purpose="ticketing",
)


class Clock:
    def __init__(self, at: float | None = None) -> None:
        self.at = time.time() if at is None else at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def keys(tmp_path: Path) -> GatewayKeys:
    return GatewayKeys.load_or_create(tmp_path / "gateway-keys")


def verifier_for(audience: str, directory: Path, **options: Any) -> TokenVerifier:
    return subgraph_token_verifier(audience, (directory / "jwks.json").as_uri(), **options)


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.get_unverified_claims(token)


async def test_a_minted_token_carries_the_granted_claims_and_verifies_for_its_subgraph(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    token = SubgraphTokenMinter(keys).token(ANN, "education", ALL_CLAIMS)
    header, body = unverified(token)
    assert header == {"alg": "ES256", "kid": keys.signing_key().kid, "typ": SUBGRAPH_TOKEN_TYPE}
    assert body["iss"] == "rugzak-gateway" and body["aud"] == "education"
    assert 0 < body["exp"] - body["iat"] <= 30
    expected = {
        "sub": "opaque-ann", "rrn": INSZ, "org": "44021", "scope": "profile:read tickets:read",
        "roles": ["staff"], "purpose": "ticketing", "acr": "substantial",
        "client_id": "citizen-portal",
    }  # fmt: skip
    assert {k: v for k, v in body.items() if k not in ("iss", "aud", "iat", "exp")} == expected
    assert "client.token.itself" not in token
    principal = await verifier_for("education", tmp_path / "gateway-keys").verify(token)
    assert (principal.subject, principal.insz, principal.purpose) == (
        "opaque-ann",
        INSZ,
        "ticketing",
    )
    assert principal.scopes == ANN.scopes and principal.is_staff and principal.acr == "substantial"


async def test_minimal_claims_say_nothing_about_the_caller(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    token = SubgraphTokenMinter(keys).token(ANN, "gent-parking", MINIMAL_CLAIMS)
    assert set(unverified(token)[1]) == {"iss", "aud", "iat", "exp"}
    principal = await verifier_for("gent-parking", tmp_path / "gateway-keys").verify(token)
    assert principal.subject is None and principal.insz is None and not principal.scopes
    only_rrn = SubgraphTokenMinter(keys).token(ANN, "gent-parking", frozenset({"rrn"}))
    assert set(unverified(only_rrn)[1]) == {"iss", "aud", "iat", "exp", "rrn"}


async def test_a_token_is_refused_by_every_other_audience(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    token = SubgraphTokenMinter(keys).token(ANN, "education", ALL_CLAIMS)
    for other in ("allowances", "ticketing", "Education", "education-v2"):
        verifier = verifier_for(other, tmp_path / "gateway-keys")
        await expect_error(verifier.verify(token), AuthErrorCode.INVALID_AUDIENCE, token=token)


async def test_an_expired_token_is_refused(tmp_path: Path, keys: GatewayKeys) -> None:
    minted_at = Clock(time.time() - 60)  # 30 s life, 5 s leeway: long gone
    token = SubgraphTokenMinter(keys, clock=minted_at).token(ANN, "education", ALL_CLAIMS)
    verifier = verifier_for("education", tmp_path / "gateway-keys")
    await expect_error(verifier.verify(token), AuthErrorCode.TOKEN_EXPIRED, token=token)
    # within its life plus the subgraphs' 5 s leeway it is fine
    recent = SubgraphTokenMinter(keys, clock=Clock(time.time() - 33)).token(
        ANN, "education", ALL_CLAIMS
    )
    assert (await verifier.verify(recent)).insz == INSZ


def test_a_token_never_outlives_the_client_token() -> None:
    keys = GatewayKeys.generate()
    soon = Principal(subject="s", claims={"exp": int(time.time()) + 10}, token="t")
    body = unverified(SubgraphTokenMinter(keys).token(soon, "education", ALL_CLAIMS))[1]
    assert body["exp"] <= soon.claims["exp"]


async def test_a_token_signed_with_another_key_is_refused(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    verifier = verifier_for("education", tmp_path / "gateway-keys")
    stranger = GatewayKeys.generate()  # its kid is published by nobody
    token = SubgraphTokenMinter(stranger).token(ANN, "education", ALL_CLAIMS)
    await expect_error(verifier.verify(token), AuthErrorCode.UNKNOWN_SIGNING_KEY, token=token)
    # a forger who copies the published kid still cannot make the signature
    real_kid = keys.signing_key().kid
    forger = SigningKey.generate()
    forged = jwt.encode(
        {**unverified(token)[1]},
        forger.signer,
        algorithm="ES256",
        headers={"kid": real_kid, "typ": SUBGRAPH_TOKEN_TYPE},
    )
    await expect_error(verifier.verify(forged), AuthErrorCode.INVALID_SIGNATURE, token=forged)


async def test_only_the_gateways_issuer_and_token_type_are_accepted(
    tmp_path: Path, keys: GatewayKeys, ec_signer: Signer
) -> None:
    directory = tmp_path / "gateway-keys"
    verifier = verifier_for("education", directory)
    minted = SubgraphTokenMinter(keys, issuer="another-gateway").token(ANN, "education", ALL_CLAIMS)
    await expect_error(verifier.verify(minted), AuthErrorCode.UNTRUSTED_ISSUER, token=minted)
    # a client's token (no gateway typ) is not what a subgraph takes, whoever signed it
    signing = keys.signing_key()
    client_like = jwt.encode(
        claims(iss="rugzak-gateway", aud="education"),
        signing.signer,
        algorithm="ES256",
        headers={"kid": signing.kid},
    )
    await expect_error(verifier.verify(client_like), AuthErrorCode.WRONG_TOKEN_TYPE)
    client = ec_signer.sign(claims(aud="education"))
    await expect_error(verifier.verify(client), AuthErrorCode.WRONG_TOKEN_TYPE)


async def test_a_client_verifier_refuses_minted_tokens_even_trusting_the_gateway(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    """The misconfiguration: the gateway's own issuer and JWKS listed as a client issuer."""
    directory = tmp_path / "gateway-keys"
    client_verifier = TokenVerifier(
        [TrustedIssuer("rugzak-gateway", "education", (directory / "jwks.json").as_uri())]
    )
    token = SubgraphTokenMinter(keys).token(ANN, "education", ALL_CLAIMS)
    await expect_error(client_verifier.verify(token), AuthErrorCode.WRONG_TOKEN_TYPE, token=token)
    upper = jwt.encode(
        unverified(token)[1],
        keys.signing_key().signer,
        algorithm="ES256",
        headers={"kid": keys.signing_key().kid, "typ": SUBGRAPH_TOKEN_TYPE.upper()},
    )
    await expect_error(client_verifier.verify(upper), AuthErrorCode.WRONG_TOKEN_TYPE)


async def test_kid_rotation(tmp_path: Path) -> None:
    """A new key is published at once, signs once it is 20 s old; tokens of the previous key
    verify until that key is removed by the rotation after."""
    directory = tmp_path / "keys"
    clock = Clock()
    keys = GatewayKeys.load_or_create(directory, clock=clock, recheck=0)
    first = keys.signing_key()
    minter = SubgraphTokenMinter(keys, clock=clock)
    verifier = verifier_for(
        "education",
        directory,
        min_refetch_interval_seconds=0,
        jwks_ttl_seconds=0,
        clock=clock,
        remember=0,  # every token verified anew: a removed key shows at once
    )
    old_token = minter.token(ANN, "education", ALL_CLAIMS)

    clock.at += 1
    second = rotate(directory, clock=clock)
    assert {k["kid"] for k in keys.jwks()["keys"]} == {first.kid, second.kid}
    assert json.loads((directory / "jwks.json").read_text()) == keys.jwks()
    assert keys.signing_key().kid == first.kid  # not active yet
    clock.at += 20
    assert keys.signing_key().kid == second.kid
    clock.at += 16  # the cached token's reuse is over: a new one, with the new kid
    new_token = minter.token(ANN, "education", ALL_CLAIMS)
    assert unverified(new_token)[0]["kid"] == second.kid
    assert (await verifier.verify(new_token)).insz == INSZ
    fresh_old = SubgraphTokenMinter(GatewayKeys([first]), clock=clock).token(
        ANN, "education", ALL_CLAIMS
    )
    assert (await verifier.verify(fresh_old)).insz == INSZ  # still published

    rotate(directory, clock=clock)  # keeps the newest two: the first key is gone
    assert first.kid not in {k["kid"] for k in keys.jwks()["keys"]}
    await expect_error(verifier.verify(fresh_old), AuthErrorCode.UNKNOWN_SIGNING_KEY)
    await expect_error(verifier.verify(old_token), AuthErrorCode.UNKNOWN_SIGNING_KEY)


async def test_the_jwks_over_http_serves_rotation(tmp_path: Path, keys: GatewayKeys) -> None:
    server = JwksServer(keys.jwks()).start()
    try:
        verifier = subgraph_token_verifier("ticketing", server.url)
        token = SubgraphTokenMinter(keys).token(ANN, "ticketing", ALL_CLAIMS)
        assert (await verifier.verify(token)).organisation == "44021"
    finally:
        server.stop()


def test_minted_tokens_are_reused_for_half_their_life() -> None:
    clock = Clock()
    minter = SubgraphTokenMinter(GatewayKeys.generate(), clock=clock)
    first = minter.token(ANN, "education", ALL_CLAIMS)
    assert minter.token(ANN, "education", ALL_CLAIMS) == first
    assert minter.token(ANN, "allowances", ALL_CLAIMS) != first  # per subgraph
    assert minter.token(ANN.with_purpose("education"), "education", ALL_CLAIMS) != first
    bram = Principal(subject="opaque-bram", insz="03621445638", claims={}, token="other")
    assert minter.token(bram, "education", ALL_CLAIMS) != first
    clock.at += 14
    assert minter.token(ANN, "education", ALL_CLAIMS) == first
    clock.at += 2
    assert minter.token(ANN, "education", ALL_CLAIMS) != first
    assert minter.minted == 5


def test_the_reuse_cache_is_bounded() -> None:
    minter = SubgraphTokenMinter(GatewayKeys.generate(), max_cached=100)
    for n in range(1000):
        minter.token(Principal(subject=f"s{n}", token="t"), "education", ALL_CLAIMS)
    assert len(minter._cache) <= 100


def test_claim_names_are_checked() -> None:
    assert check_claim_names(["rrn", "sub", "rrn"]) == {"rrn", "sub"}
    for bad in (["email"], ["rrn", "token"], [1]):
        with pytest.raises(ValueError, match="is not a claim"):
            check_claim_names(bad)
    with pytest.raises(ValueError):
        SubgraphTokenMinter(GatewayKeys.generate(), ttl=3600)


def test_key_files_are_private_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    first = GatewayKeys.load_or_create(directory)
    again = GatewayKeys.load_or_create(directory)
    assert first.signing_key().kid == again.signing_key().kid
    (pem,) = directory.glob("key-*.pem")
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert "d" not in first.jwks()["keys"][0]  # no private part published
    (directory / "key-00000000000000000001.pem").write_text("not a key")
    with pytest.raises(ValueError, match="does not hold"):
        GatewayKeys.load_or_create(directory)
    with pytest.raises(ValueError, match="keep at least 2"):
        rotate(directory, keep=1)


async def test_a_subgraph_remembers_a_verified_token_until_it_expires(
    tmp_path: Path, keys: GatewayKeys
) -> None:
    clock = Clock()
    token = SubgraphTokenMinter(keys, clock=clock).token(ANN, "education", ALL_CLAIMS)
    verifier = verifier_for("education", tmp_path / "gateway-keys", clock=clock)
    first = await verifier.verify(token)
    (tmp_path / "gateway-keys" / "jwks.json").write_text('{"keys": []}')  # a second look fails
    assert await verifier.verify(token) is first
    clock.at += 36  # past exp and the 5 s leeway
    await expect_error(verifier.verify(token), AuthErrorCode.TOKEN_EXPIRED, token=token)
    small = verifier_for("education", tmp_path / "gateway-keys", remember=3)
    assert small._remember == 3
