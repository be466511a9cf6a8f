"""`rugzak token`: in a subprocess end to end, and in-process for the argument handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jose import jwt

from auth.dev_issuer import DevIssuer
from auth.principal import Principal
from auth.token_cli import opaque_subject, run
from auth.verifier import TokenVerifier, TrustedIssuer
from gateway.policies import SUBJECT_IS_CALLER, FieldRequest, PolicyRegistry, Verdict

ROOT = Path(__file__).resolve().parents[2]
INSZ = "85073003328"


def demo_state(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell next to a demo whose state is in tmp_path/demo, whose issuer
    exists (as the demo makes it at its start)."""
    DevIssuer.load_or_create(tmp_path / "demo" / "dev-issuer")
    return {**os.environ, "PYTHONPATH": str(ROOT), "RUGZAK_DEMO_DIR": str(tmp_path / "demo")}


def rugzak_token(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = demo_state(tmp_path)
    cwd = tmp_path / "some-other-folder"  # the demo's issuer is found from any folder
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "auth.token_cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def verifier_for(directory: Path) -> TokenVerifier:
    issuer = DevIssuer.load_or_create(directory)
    return TokenVerifier(
        [TrustedIssuer(issuer.issuer, issuer.audience, (directory / "jwks.json").as_uri())]
    )


async def test_prints_exactly_one_token_that_verifies(tmp_path: Path) -> None:
    done = rugzak_token(tmp_path, "--citizen", INSZ, "--scope", "profile:read", "--ttl", "600")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    token = done.stdout.removesuffix("\n")
    assert done.stdout == token + "\n"
    assert token.count(".") == 2 and not any(c.isspace() for c in token)

    directory = tmp_path / "demo" / "dev-issuer"  # the demo's, by default
    principal = await verifier_for(directory).authenticate(f"Bearer {token}")
    assert principal.insz == INSZ
    assert principal.scopes == {"profile:read"}
    assert principal.subject == opaque_subject("rugzak-dev-issuer", INSZ)
    assert INSZ not in (principal.subject or "")
    assert principal.claims["exp"] - principal.claims["iat"] == 600


async def test_later_runs_reuse_the_same_key(tmp_path: Path) -> None:
    first = rugzak_token(tmp_path, "--citizen", INSZ)
    second = rugzak_token(tmp_path, "--subject", "civil-servant-1", "--scope", "a", "--scope", "b")
    assert first.returncode == second.returncode == 0
    kid = jwt.get_unverified_header(first.stdout.strip())["kid"]
    assert jwt.get_unverified_header(second.stdout.strip())["kid"] == kid
    principal = await verifier_for(tmp_path / "demo" / "dev-issuer").verify(second.stdout.strip())
    assert (principal.subject, principal.insz) == ("civil-servant-1", None)
    assert principal.scopes == {"a", "b"}


def test_invalid_insz_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "auth.token_cli", "--citizen", "85073003329"],
        cwd=tmp_path, env={**os.environ, "RUGZAK_DEMO_DIR": str(tmp_path / "demo")},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert "INSZ" in done.stderr
    assert not (tmp_path / "demo").exists()  # nothing is created for a refused request


def test_without_a_demo_nothing_is_minted_and_it_says_where_it_looked(tmp_path: Path) -> None:
    """A new issuer made here would sign tokens no running gateway trusts."""
    done = subprocess.run(
        [sys.executable, "-m", "auth.token_cli", "--citizen", INSZ],
        cwd=tmp_path, env={**os.environ, "RUGZAK_DEMO_DIR": str(tmp_path / "demo")},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert f"no development issuer in {tmp_path / 'demo' / 'dev-issuer'}" in done.stderr
    assert "--dev-issuer-dir" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made, here or there


def test_the_demo_keeps_its_state_in_the_users_data_directory(tmp_path: Path) -> None:
    from auth.dev_issuer import demo_issuer_dir

    env = {k: v for k, v in os.environ.items() if k != "RUGZAK_DEMO_DIR"}
    code = "from auth.dev_issuer import demo_issuer_dir; print(demo_issuer_dir())"
    for extra, expected in (
        ({"XDG_DATA_HOME": str(tmp_path / "xdg")}, tmp_path / "xdg" / "rugzak" / "demo"),
        ({"HOME": str(tmp_path / "home")}, tmp_path / "home/.local/share/rugzak/demo"),
    ):
        run_env = {k: v for k, v in env.items() if k != "XDG_DATA_HOME"} | extra
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=run_env, capture_output=True, text=True,
            timeout=60, check=True,
        )  # fmt: skip
        assert done.stdout.strip() == str(expected / "dev-issuer")
    assert demo_issuer_dir().name == "dev-issuer"


def test_dev_issuer_dir_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "elsewhere"
    assert run(["--citizen", "85.07.30-033.28", "--dev-issuer-dir", str(directory)]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.get_unverified_claims(token)["rrn"] == INSZ
    assert (directory / "signing-key.pem").exists()


def test_insz_born_after_2000(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first9 = "050612345"
    insz = f"{first9}{97 - int('2' + first9) % 97:02d}"
    assert run(["--citizen", insz, "--dev-issuer-dir", str(tmp_path)]) == 0
    assert jwt.get_unverified_claims(capsys.readouterr().out.strip())["rrn"] == insz


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--citizen", "123"],
        ["--citizen", INSZ, "--ttl", "0"],
        ["--citizen", INSZ, "--ttl", "soon"],
        ["--citizen", INSZ, "--scope", "two words"],
        ["--citizen", INSZ, "--unknown"],
        ["--subject", ""],
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert run([*argv, "--dev-issuer-dir", str(tmp_path / "d")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "rugzak token: error:" in err
    assert not (tmp_path / "d").exists()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    assert "--citizen" in capsys.readouterr().out


def test_unusable_issuer_dir_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert run(["--citizen", INSZ, "--dev-issuer-dir", str(blocker / "sub")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "cannot use the dev issuer" in err


# --- kinds of callers --------------------------------------------------------------------------


def passes(principal: Principal, *policies: str) -> dict[str, Verdict]:
    """What the gateway's built-in policies say about this caller on a citizen's field (no
    field arguments); citizen-self then holds for the citizen's own objects only."""
    registry = PolicyRegistry()
    request = FieldRequest(principal, "Citizen.childBenefits", {}, subject_type="Citizen")
    return {name: registry.resolve(name)(request) for name in policies}


async def test_staff_token_through_rugzak_token(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "token", "--staff", "--subject", "civil-servant-1",
         "--scope", "allowances:read", "--scope", "tickets:read", "--purpose", "child-benefit",
         "--municipality", "44021", "--acr", "high", "--role", "case-handler",
         "--client-id", "groeipakket-backoffice"],
        cwd=tmp_path, env=demo_state(tmp_path),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    principal = await verifier_for(tmp_path / "demo" / "dev-issuer").verify(token)
    assert principal.is_staff and not principal.is_citizen
    assert (principal.subject, principal.insz) == ("civil-servant-1", None)
    assert principal.roles == {"staff", "case-handler"}
    assert principal.scopes == {"allowances:read", "tickets:read"}
    assert (principal.organisation, principal.acr, principal.purpose, principal.client_id) == (
        "44021",
        "high",
        "child-benefit",
        "groeipakket-backoffice",
    )
    assert passes(
        principal,
        "staff",
        "purpose:child-benefit",
        "acr:high",
        "scope:allowances:read",
        "citizen-self",
        "purpose:study-grant",
        "scope:education:read",
    ) == {
        "staff": True,
        "purpose:child-benefit": True,
        "acr:high": True,
        "scope:allowances:read": True,
        "citizen-self": False,
        "purpose:study-grant": False,
        "scope:education:read": False,
    }
    assert set(jwt.get_unverified_claims(token)) == {
        "iss", "aud", "sub", "iat", "nbf", "exp", "jti",
        "scope", "roles", "org", "acr", "purpose", "client_id",
    }  # fmt: skip


async def mint(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> Principal:
    directory = tmp_path / "issuer"
    assert run([*argv, "--dev-issuer-dir", str(directory)]) == 0
    token = capsys.readouterr().out.strip()
    return await verifier_for(directory).verify(token)


async def test_staff_token_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a purpose (the application then sends x-rugzak-purpose) or a municipality."""
    principal = await mint(tmp_path, capsys, "--staff", "--subject", "cs-2", "--role", "staff")
    assert principal.roles == {"staff"}
    assert (principal.acr, principal.purpose, principal.organisation) == ("substantial", None, None)
    assert principal.scopes == frozenset() and principal.client_id is None
    assert passes(principal, "staff", "acr:substantial", "acr:high") == {
        "staff": True,
        "acr:substantial": True,
        "acr:high": False,
    }


@pytest.mark.parametrize(
    ("argv", "acr"),
    [([], "substantial"), (["--acr", "high"], "high"), (["--acr", "LOW"], "low")],
)
async def test_citizen_token_assurance_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], acr: str
) -> None:
    principal = await mint(tmp_path, capsys, "--citizen", INSZ, *argv, "--client-id", "burgerapp")
    assert principal.is_citizen and principal.insz == INSZ
    assert (principal.acr, principal.client_id, principal.roles) == (acr, "burgerapp", frozenset())
    assert passes(principal, "citizen-self", "staff", f"acr:{acr}") == {
        "citizen-self": SUBJECT_IS_CALLER,
        "staff": False,
        f"acr:{acr}": True,
    }


async def test_subject_only_token_has_no_assurance_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    principal = await mint(
        tmp_path, capsys, "--subject", "batch-job", "--scope", "cache:invalidate"
    )
    assert (principal.acr, principal.is_staff, principal.is_citizen) == (None, False, False)
    assert principal.scopes == {"cache:invalidate"}


STAFF = ["--staff", "--subject", "cs-1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--citizen", INSZ, "--staff", "--subject", "x"], "not allowed with argument"),
        (["--staff"], "--staff needs --subject"),
        (["--staff", "--subject", " "], "--subject: must not be empty"),
        (["--citizen", INSZ, "--purpose", "child-benefit"], "--purpose: only for a civil servant"),
        (["--subject", "x", "--municipality", "44021"], "--municipality: only for a civil servant"),
        (["--citizen", INSZ, "--role", "admin"], "--role: only for a civil servant"),
        ([*STAFF, "--municipality", "4402"], "--municipality: a NIS code is 5 digits"),
        ([*STAFF, "--municipality", "440211"], "--municipality: a NIS code is 5 digits"),
        ([*STAFF, "--municipality", "Gent"], "--municipality: a NIS code is 5 digits"),
        (
            [*STAFF, "--municipality", "\uff14\uff14\uff10\uff12\uff11"],
            "--municipality: a NIS code is 5 digits",
        ),
        ([*STAFF, "--acr", "medium"], "not one of low, substantial, high"),
        (["--citizen", INSZ, "--acr", ""], "not one of low, substantial, high"),
        ([*STAFF, "--purpose", ""], "--purpose: one word without spaces"),
        ([*STAFF, "--purpose", "child benefit"], "--purpose: one word without spaces"),
        ([*STAFF, "--role", ""], "--role: one word without spaces"),
        ([*STAFF, "--client-id", "my app"], "--client-id: one word without spaces"),
        ([*STAFF, "--scope", "a\tb"], "--scope: one word without spaces"),
    ],
)
def test_bad_caller_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run([*argv, "--dev-issuer-dir", str(tmp_path / "d")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "rugzak token: error:" in err and message in err, err
    assert not (tmp_path / "d").exists()


async def test_for_subgraph_prints_what_the_demos_gateway_sends_that_subgraph(
    tmp_path: Path,
) -> None:
    """A subgraph developer calls their subgraph directly with the token the gateway would send
    it: it verifies as the gateway's token for that subgraph only, with the caller's claims."""
    from auth.errors import AuthenticationError
    from auth.gateway_keys import GatewayKeys
    from auth.subgraph_tokens import subgraph_token_verifier

    keys = tmp_path / "demo" / "gateway-keys"
    GatewayKeys.load_or_create(keys)  # as the demo makes them
    jwks = (keys / "jwks.json").as_uri()
    done = rugzak_token(tmp_path, "--for-subgraph", "parking", "--citizen", INSZ)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    principal = await subgraph_token_verifier("parking", jwks).authenticate(f"Bearer {token}")
    assert principal.insz == INSZ and principal.acr == "substantial"
    assert principal.claims["exp"] - principal.claims["iat"] <= 300
    with pytest.raises(AuthenticationError) as refused:
        await subgraph_token_verifier("education", jwks).authenticate(f"Bearer {token}")
    assert refused.value.code == "INVALID_AUDIENCE"
    with pytest.raises(AuthenticationError) as client:  # and never a client token
        await verifier_for(tmp_path / "demo" / "dev-issuer").authenticate(f"Bearer {token}")
    assert client.value.code in ("WRONG_TOKEN_TYPE", "UNTRUSTED_ISSUER")


def test_for_subgraph_without_the_gateways_key_mints_nothing(tmp_path: Path) -> None:
    done = rugzak_token(tmp_path, "--for-subgraph", "parking", "--citizen", INSZ)
    assert done.returncode == 1 and done.stdout == ""
    assert f"no gateway key in {tmp_path / 'demo' / 'gateway-keys'}" in done.stderr
    assert not (tmp_path / "demo" / "gateway-keys").exists()  # none made: the JWKS lacks it
    usage = rugzak_token(tmp_path, "--citizen", INSZ, "--gateway-key-dir", str(tmp_path))
    assert usage.returncode == 2 and "only with --for-subgraph" in usage.stderr
