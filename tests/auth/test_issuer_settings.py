"""The verifier's settings from the environment: RUGZAK_TRUSTED_ISSUERS (JSON or @FILE), the
single-issuer variables, RUGZAK_TOKEN_LEEWAY_SECONDS and RUGZAK_MAX_TOKEN_BYTES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auth.errors import AuthErrorCode
from auth.verifier import TokenVerifier, verifier_from_env
from tests.auth.helpers import AUDIENCE, INSZ, ISSUER, Signer, claims, expect_error, now

C = AuthErrorCode


def issuers_json(*entries: dict[str, Any]) -> str:
    return json.dumps(list(entries))


def entry(jwks_url: str, **overrides: Any) -> dict[str, Any]:
    return {"issuer": ISSUER, "audience": AUDIENCE, "jwks_url": jwks_url, **overrides}


def build(env: dict[str, str], **kwargs: Any) -> TokenVerifier:
    verifier = verifier_from_env(env, **kwargs)
    assert verifier is not None
    return verifier


def test_several_issuers_with_their_algorithms(jwks_file: Path) -> None:
    url = jwks_file.as_uri()
    verifier = build(
        {
            "RUGZAK_TRUSTED_ISSUERS": issuers_json(
                entry(url),
                entry(url, issuer="https://b.test", audience="b", algorithms=["ES384", "ES384"]),
            )
        }
    )
    first, second = verifier.issuers
    assert (first.issuer, first.audience, first.jwks_url, first.algorithms) == (
        ISSUER,
        AUDIENCE,
        url,
        ("RS256", "ES256"),
    )
    assert (second.issuer, second.audience, second.algorithms) == (
        "https://b.test",
        "b",
        ("ES384",),
    )


async def test_paths_are_relative_to_the_file_or_the_working_directory(
    tmp_path: Path, jwks_file: Path, rsa_signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "keys.json").write_text(jwks_file.read_text())
    config = config_dir / "issuers.json"
    # a byte order mark, as some editors write one
    config.write_text("\ufeff" + issuers_json(entry("keys.json")), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's directory
    verifier = build({"RUGZAK_TRUSTED_ISSUERS": f"@{config}"})
    assert verifier.issuers[0].jwks_url == (config_dir / "keys.json").as_uri()
    assert (await verifier.verify(rsa_signer.sign(claims()))).insz == INSZ

    inline = build({"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry("etc/keys.json"))})
    assert inline.issuers[0].jwks_url == (config_dir / "keys.json").as_uri()
    relative_file = build({"RUGZAK_TRUSTED_ISSUERS": "@etc/issuers.json"})
    assert relative_file.issuers[0].jwks_url == (config_dir / "keys.json").as_uri()


def test_the_single_issuer_variables_still_work(jwks_file: Path) -> None:
    verifier = build({"RUGZAK_JWKS_URL": str(jwks_file), "RUGZAK_TRUSTED_ISSUERS": "  "})
    (only,) = verifier.issuers
    assert (only.issuer, only.audience, only.jwks_url) == (
        "rugzak-dev-issuer",
        "rugzak",
        jwks_file.as_uri(),
    )
    assert verifier_from_env({"RUGZAK_TOKEN_LEEWAY_SECONDS": "10"}) is None


def test_the_command_line_replaces_the_environments_issuers(jwks_file: Path) -> None:
    url = jwks_file.as_uri()
    env = {
        "RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(url, issuer="https://env.test")),
        "RUGZAK_JWKS_URL": url,
    }
    verifier = build(env, trusted_issuers=issuers_json(entry(url, issuer="https://cli.test")))
    assert [i.issuer for i in verifier.issuers] == ["https://cli.test"]
    with pytest.raises(ValueError, match="--trusted-issuers wants a JSON array or @FILE"):
        verifier_from_env({}, trusted_issuers=" ")


async def test_leeway(jwks_file: Path, rsa_signer: Signer) -> None:
    url = jwks_file.as_uri()
    config = issuers_json(entry(url))
    expired_20s = rsa_signer.sign(claims(exp=now() - 20))
    expired_100s = rsa_signer.sign(claims(exp=now() - 100))
    future_100s = rsa_signer.sign(claims(nbf=now() + 100, iat=None))

    default = build({"RUGZAK_TRUSTED_ISSUERS": config})  # 30 s
    await default.verify(expired_20s)
    await expect_error(default.verify(expired_100s), C.TOKEN_EXPIRED)

    none = build({"RUGZAK_TRUSTED_ISSUERS": config, "RUGZAK_TOKEN_LEEWAY_SECONDS": "0"})
    await expect_error(none.verify(expired_20s), C.TOKEN_EXPIRED)

    wide = build({"RUGZAK_JWKS_URL": url, "RUGZAK_TRUSTED_ISSUER": ISSUER,
                  "RUGZAK_AUDIENCE": AUDIENCE, "RUGZAK_TOKEN_LEEWAY_SECONDS": " 120 "})  # fmt: skip
    await wide.verify(expired_100s)
    await wide.verify(future_100s)


async def test_max_token_bytes(jwks_file: Path, rsa_signer: Signer) -> None:
    config = issuers_json(entry(jwks_file.as_uri()))
    token = rsa_signer.sign(claims(note="x" * 1200))
    assert 1500 < len(token) < 8192
    await build({"RUGZAK_TRUSTED_ISSUERS": config}).verify(token)  # default 8192
    small = build({"RUGZAK_TRUSTED_ISSUERS": config, "RUGZAK_MAX_TOKEN_BYTES": "1500"})
    await expect_error(small.verify(token), C.TOKEN_TOO_LARGE)
    await small.verify(rsa_signer.sign(claims()))


URL = "https://idp.example.test/jwks"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RUGZAK_TRUSTED_ISSUERS": "[{"}, "RUGZAK_TRUSTED_ISSUERS is not valid JSON: "),
        ({"RUGZAK_TRUSTED_ISSUERS": "nope"}, "(line 1, column 1)"),
        ({"RUGZAK_TRUSTED_ISSUERS": "[]"}, "RUGZAK_TRUSTED_ISSUERS lists no issuer"),
        (
            {"RUGZAK_TRUSTED_ISSUERS": json.dumps(entry(URL))},
            "RUGZAK_TRUSTED_ISSUERS must be a JSON array of issuer objects",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": '["https://idp.example.test"]'},
            "RUGZAK_TRUSTED_ISSUERS, issuer 1: must be an object with issuer, audience, jwks_url",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json({"issuer": ISSUER, "jwks_url": URL})},
            f"issuer 1 (issuer '{ISSUER}'): 'audience' is missing",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, audience=["a", "b"]))},
            "'audience' must be a non-empty string, got an array",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, issuer=""))},
            "issuer 1: 'issuer' must be a non-empty string, got an empty string",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, issuer=f" {ISSUER}"))},
            "'issuer' has leading or trailing spaces",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, jwks_uri=URL))},
            "unknown key 'jwks_uri' (did you mean 'jwks_url'?)",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry("ftp://idp.example.test/jwks"))},
            "the JWKS URL must be http://, https:// or file://",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, algorithms=["RS256", "HS256"]))},
            "algorithms ['HS256'] are not accepted",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, algorithms="RS256"))},
            "'algorithms' must be a non-empty array of names, got a string",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL, algorithms=[]))},
            "'algorithms' must be a non-empty array of names, got an empty array",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL), entry(URL, audience="other"))},
            f"issuer 2 (issuer '{ISSUER}'): the same issuer is already issuer 1",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": '[{"issuer": "a", "issuer": "b"}]'},
            "the key 'issuer' appears twice in one object",
        ),
        ({"RUGZAK_TRUSTED_ISSUERS": "@"}, "'@' must be followed by a file name"),
        (
            {"RUGZAK_TRUSTED_ISSUERS": "@/nonexistent/issuers.json"},
            "RUGZAK_TRUSTED_ISSUERS: cannot read /nonexistent/issuers.json",
        ),
        (
            {"RUGZAK_TRUSTED_ISSUERS": issuers_json(entry(URL)), "RUGZAK_AUDIENCE": "x"},
            "RUGZAK_TRUSTED_ISSUERS and RUGZAK_AUDIENCE are both set",
        ),
        (
            {"RUGZAK_JWKS_URL": "ftp://idp.example.test/jwks"},
            "RUGZAK_JWKS_URL / RUGZAK_TRUSTED_ISSUER / RUGZAK_AUDIENCE: the JWKS URL must be",
        ),
        (
            {"RUGZAK_TOKEN_LEEWAY_SECONDS": "301"},
            "RUGZAK_TOKEN_LEEWAY_SECONDS must be a whole number from 0 to 300, got '301'",
        ),
        ({"RUGZAK_TOKEN_LEEWAY_SECONDS": "-5"}, "RUGZAK_TOKEN_LEEWAY_SECONDS must be"),
        ({"RUGZAK_TOKEN_LEEWAY_SECONDS": "30s"}, "RUGZAK_TOKEN_LEEWAY_SECONDS must be"),
        ({"RUGZAK_TOKEN_LEEWAY_SECONDS": "1e2"}, "RUGZAK_TOKEN_LEEWAY_SECONDS must be"),
        (
            {"RUGZAK_MAX_TOKEN_BYTES": "100"},
            "RUGZAK_MAX_TOKEN_BYTES must be a whole number from 1024 to 65536, got '100'",
        ),
        ({"RUGZAK_MAX_TOKEN_BYTES": "1000000"}, "RUGZAK_MAX_TOKEN_BYTES must be"),
        ({"RUGZAK_MAX_TOKEN_BYTES": "8 KB"}, "RUGZAK_MAX_TOKEN_BYTES must be"),
    ],
)
def test_configuration_mistakes_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as info:
        verifier_from_env(env)
    assert message in str(info.value)


def test_a_config_file_mistake_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "issuers.json"
    config.write_text('[{"issuer": "a", "audience": "b", "jwks_url": "https://a.test/k"},]')
    with pytest.raises(
        ValueError, match=r"RUGZAK_TRUSTED_ISSUERS \(.*issuers\.json\) is not valid"
    ):
        verifier_from_env({"RUGZAK_TRUSTED_ISSUERS": f"@{config}"})
    config.write_bytes(b"\xff\xfe[")
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        verifier_from_env({"RUGZAK_TRUSTED_ISSUERS": f"@{config}"})
