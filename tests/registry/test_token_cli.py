"""`rugzak token --registry --owner ORG`: a token that manages one organisation's subgraphs."""

from __future__ import annotations

from pathlib import Path

import pytest
from jose import jwt

from auth.token_cli import run


def claims_of(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    token = capsys.readouterr().out.strip()
    return dict(jwt.get_unverified_claims(token))


def test_registry_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--registry", "--owner", "44021", "--dev-issuer-dir", str(tmp_path)]) == 0
    claims = claims_of(capsys)
    assert claims["scope"] == "registry:write"
    assert claims["org"] == "44021"
    assert claims["sub"] == "registry-44021"
    assert "roles" not in claims and "rrn" not in claims


def test_registry_token_with_subject_and_more_scopes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--registry", "--owner", "AGODI", "--subject", "ci-bot", "--scope", "registry:read"]
    assert run([*argv, "--dev-issuer-dir", str(tmp_path)]) == 0
    claims = claims_of(capsys)
    assert claims["scope"] == "registry:write registry:read"
    assert (claims["org"], claims["sub"]) == ("AGODI", "ci-bot")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--registry"], "--registry needs --owner"),
        (["--subject", "x", "--owner", "44021"], "--owner: only for a registry token"),
        (["--registry", "--owner", "44 021"], "--owner: a NIS code or agency code"),
        (["--registry", "--staff", "--owner", "1"], "not allowed with argument"),
    ],
)
def test_bad_registry_arguments(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*argv, "--dev-issuer-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
