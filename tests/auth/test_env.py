from __future__ import annotations

from pathlib import Path

import pytest

from auth.dev_issuer import DevIssuer
from auth.verifier import TokenVerifier, verifier_from_env


def test_no_jwks_url_means_no_verifier() -> None:
    assert verifier_from_env({}) is None
    assert verifier_from_env({"RUGZAK_JWKS_URL": "", "RUGZAK_TRUSTED_ISSUER": "x"}) is None


def test_one_trusted_issuer_from_the_environment() -> None:
    verifier = verifier_from_env(
        {
            "RUGZAK_TRUSTED_ISSUER": "https://idp.example.test",
            "RUGZAK_AUDIENCE": "gateway",
            "RUGZAK_JWKS_URL": "https://idp.example.test/jwks",
        }
    )
    assert isinstance(verifier, TokenVerifier)
    (issuer,) = verifier.issuers
    assert (issuer.issuer, issuer.audience, issuer.jwks_url) == (
        "https://idp.example.test",
        "gateway",
        "https://idp.example.test/jwks",
    )
    assert issuer.algorithms == ("RS256", "ES256")


async def test_defaults_fit_the_dev_issuer_and_a_plain_path_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = DevIssuer.load_or_create(tmp_path / ".rugzak" / "dev-issuer")
    monkeypatch.chdir(tmp_path)
    verifier = verifier_from_env({"RUGZAK_JWKS_URL": ".rugzak/dev-issuer/jwks.json"})
    assert verifier is not None
    assert verifier.issuers[0].jwks_url.startswith("file:///")
    principal = await verifier.verify(issuer.mint(subject="s", insz="85073003328"))
    assert principal.insz == "85073003328"


def test_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        verifier_from_env({"RUGZAK_JWKS_URL": "ftp://idp.example.test/jwks"})
