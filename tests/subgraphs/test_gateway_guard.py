"""subgraphs/common/gateway_guard.py: how a subgraph is told whose tokens to take.

The refusals themselves are tested over real servers in tests/subgraphs/test_identity.py and
tests/security/."""

from __future__ import annotations

from pathlib import Path

import pytest

from auth.verifier import TokenVerifier
from subgraphs.common.gateway_guard import gateway_verifier_from_env


def test_without_the_gateways_keys_a_subgraph_checks_nothing() -> None:
    assert gateway_verifier_from_env("education", {}) is None


def test_with_them_it_takes_the_gateways_tokens_for_its_own_name(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    for value in (str(jwks), jwks.as_uri(), "http://127.0.0.1:4000/.well-known/gateway-jwks.json"):
        verifier = gateway_verifier_from_env("education", {"RUGZAK_GATEWAY_JWKS_URL": value})
        assert isinstance(verifier, TokenVerifier)
        (trusted,) = verifier.issuers
        assert (trusted.issuer, trusted.audience, trusted.algorithms) == (
            "rugzak-gateway", "education", ("ES256",),
        )  # fmt: skip
    env = {
        "RUGZAK_GATEWAY_JWKS_URL": str(jwks),
        "RUGZAK_GATEWAY_ISSUER": "gateway.example",
        "RUGZAK_SUBGRAPH_AUDIENCE": "education-eu",
    }
    verifier = gateway_verifier_from_env("education", env)
    assert verifier is not None
    assert (verifier.issuers[0].issuer, verifier.issuers[0].audience) == (
        "gateway.example",
        "education-eu",
    )


def test_a_bad_setting_stops_the_subgraph_rather_than_leave_it_open() -> None:
    with pytest.raises(ValueError, match="RUGZAK_GATEWAY_JWKS_URL"):
        gateway_verifier_from_env("education", {"RUGZAK_GATEWAY_JWKS_URL": "ftp://gateway/jwks"})
