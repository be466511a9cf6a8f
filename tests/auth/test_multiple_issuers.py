"""Two identity providers trusted at once, configured as an operator would (RUGZAK_TRUSTED_ISSUERS
or `rugzak serve --trusted-issuers`), each with its JWKS served over real loopback HTTP: a
citizens' IdP (RS256) and a staff IdP (ES256 and RS256), each with its own audience."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.errors import AuthErrorCode
from auth.verifier import TokenVerifier, verifier_from_env
from tests.auth.helpers import INSZ, JwksServer, Signer, claims, expect_error, jwks
from tests.servers import ROOT, Server, start_python_server

C = AuthErrorCode
CITIZENS = "https://citizens.idp.example.test"
STAFF = "https://staff.idp.example.test"
CITIZENS_AUDIENCE = "rugzak-citizen-portal"
STAFF_AUDIENCE = "rugzak-staff-portal"


@dataclass
class TwoIdps:
    citizens: JwksServer
    staff: JwksServer
    citizen_key: Signer
    staff_key: Signer  # ES256
    staff_rsa_key: Signer

    def config(self) -> list[dict[str, Any]]:
        return [
            {
                "issuer": CITIZENS,
                "audience": CITIZENS_AUDIENCE,
                "jwks_url": self.citizens.url,
                "algorithms": ["RS256"],
            },
            {
                "issuer": STAFF,
                "audience": STAFF_AUDIENCE,
                "jwks_url": self.staff.url,
                "algorithms": ["ES256", "RS256"],
            },
        ]

    def verifier(self) -> TokenVerifier:
        verifier = verifier_from_env({"RUGZAK_TRUSTED_ISSUERS": json.dumps(self.config())})
        assert verifier is not None
        return verifier

    def citizen_token(self, **overrides: Any) -> str:
        return self.citizen_key.sign(citizen_claims(**overrides))

    def staff_token(self, **overrides: Any) -> str:
        return self.staff_key.sign(staff_claims(**overrides))


def citizen_claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": CITIZENS, "aud": CITIZENS_AUDIENCE, "sub": "citizen-opaque-1"}
    return claims(**{**base, "acr": "substantial", "scope": None, **overrides})


def staff_claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": STAFF, "aud": STAFF_AUDIENCE, "sub": "civil-servant-1", "rrn": None}
    staff = {
        "roles": ["staff", "case-handler"],
        "org": "44021",
        "acr": "high",
        "purpose": "child-benefit",
        "client_id": "groeipakket-backoffice",
        "scope": "allowances:read",
    }
    return claims(**{**base, **staff, **overrides})


@pytest.fixture
def idps(rsa_signer: Signer, ec_signer: Signer, other_rsa_signer: Signer) -> Iterator[TwoIdps]:
    citizens = JwksServer(jwks(rsa_signer)).start()
    try:
        staff = JwksServer(jwks(ec_signer, other_rsa_signer)).start()
        try:
            yield TwoIdps(citizens, staff, rsa_signer, ec_signer, other_rsa_signer)
        finally:
            staff.stop()
    finally:
        citizens.stop()


async def test_a_citizen_and_a_civil_servant_each_get_their_principal(idps: TwoIdps) -> None:
    verifier = idps.verifier()
    assert [i.issuer for i in verifier.issuers] == [CITIZENS, STAFF]

    citizen = await verifier.authenticate(f"Bearer {idps.citizen_token()}")
    assert (citizen.issuer, citizen.subject, citizen.insz) == (CITIZENS, "citizen-opaque-1", INSZ)
    assert citizen.is_citizen and not citizen.is_staff
    assert (citizen.acr, citizen.roles, citizen.organisation, citizen.purpose) == (
        "substantial",
        frozenset(),
        None,
        None,
    )

    servant = await verifier.authenticate(f"Bearer {idps.staff_token()}")
    assert (servant.issuer, servant.subject, servant.insz) == (STAFF, "civil-servant-1", None)
    assert servant.is_staff and not servant.is_citizen
    assert servant.roles == {"staff", "case-handler"}
    assert servant.scopes == {"allowances:read"}
    assert (servant.organisation, servant.acr, servant.purpose, servant.client_id) == (
        "44021",
        "high",
        "child-benefit",
        "groeipakket-backoffice",
    )

    rsa_servant = await verifier.verify(idps.staff_rsa_key.sign(staff_claims(sub="it-admin")))
    assert (rsa_servant.issuer, rsa_servant.subject) == (STAFF, "it-admin")
    assert idps.citizens.requests == idps.staff.requests == 1  # each JWKS fetched once


async def test_a_token_naming_one_issuer_but_signed_by_the_others_key(idps: TwoIdps) -> None:
    verifier = idps.verifier()
    await verifier.verify(idps.citizen_token())  # the citizens' keys are cached

    # the staff IdP's RSA key, its own kid, iss of the citizens' IdP: A does not publish that kid
    token = idps.staff_rsa_key.sign(citizen_claims())
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    # the same key under the citizens' kid: A's key does not verify it
    forged = idps.staff_rsa_key.with_kid(idps.citizen_key.kid or "").sign(citizen_claims())
    await expect_error(verifier.verify(forged), C.INVALID_SIGNATURE, token=forged)
    # the staff IdP's EC key: the citizens' IdP is trusted for RS256 only
    token = idps.staff_key.sign(citizen_claims())
    await expect_error(verifier.verify(token), C.UNSUPPORTED_ALGORITHM, token=token)
    # and the other way round: a staff token made with the citizens' key
    token = idps.citizen_key.sign(staff_claims())
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    forged = idps.citizen_key.with_kid(idps.staff_rsa_key.kid or "").sign(staff_claims())
    await expect_error(verifier.verify(forged), C.INVALID_SIGNATURE, token=forged)


async def test_each_issuer_has_its_own_audience(idps: TwoIdps) -> None:
    verifier = idps.verifier()
    for token in (
        idps.citizen_token(aud=STAFF_AUDIENCE),
        idps.citizen_token(aud=[STAFF_AUDIENCE, "something-else"]),
        idps.staff_token(aud=CITIZENS_AUDIENCE),
        idps.staff_token(aud=[CITIZENS_AUDIENCE]),
    ):
        await expect_error(verifier.verify(token), C.INVALID_AUDIENCE, token=token)
    both = [CITIZENS_AUDIENCE, STAFF_AUDIENCE]  # naming several services is allowed
    assert (await verifier.verify(idps.citizen_token(aud=both))).issuer == CITIZENS
    assert (await verifier.verify(idps.staff_token(aud=both))).issuer == STAFF


async def test_an_issuer_nobody_configured(idps: TwoIdps, other_rsa_signer: Signer) -> None:
    verifier = idps.verifier()
    token = other_rsa_signer.sign(staff_claims(iss="https://staff.idp.example.test/"))
    await expect_error(verifier.verify(token), C.UNTRUSTED_ISSUER, token=token)
    assert idps.staff.requests == 0  # refused without fetching anything


async def test_issuers_from_a_file(idps: TwoIdps, tmp_path: Path) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps(idps.config(), indent=2))
    verifier = verifier_from_env(
        {"RUGZAK_TRUSTED_ISSUERS": f"@{path}", "RUGZAK_TOKEN_LEEWAY_SECONDS": "0"}
    )
    assert verifier is not None
    assert (await verifier.verify(idps.citizen_token())).insz == INSZ
    assert (await verifier.verify(idps.staff_token())).is_staff
    late = idps.staff_token(exp=claims()["iat"] - 2)  # expired 2 s ago: no leeway configured
    await expect_error(verifier.verify(late), C.TOKEN_EXPIRED, token=late)


# --- the gateway, started as an operator would ------------------------------------------------


def closed_port_url() -> str:
    """A loopback URL nobody listens on: subgraph calls fail at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"


@pytest.fixture
def gateway(idps: TwoIdps, tmp_path: Path) -> Iterator[Server]:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps(idps.config()))
    argv = ["-m", "gateway", "serve", "--supergraph", str(ROOT / "schema.graphql")]
    for name in ("education", "allowances", "ticketing"):
        argv += ["--subgraph-url", f"{name}={closed_port_url()}"]
    argv += ["--trusted-issuers", f"@{path}"]
    # the single-issuer variables, should the test run in a shell that has them, are replaced
    env = {"RUGZAK_JWKS_URL": "", "RUGZAK_TRUSTED_ISSUER": "", "RUGZAK_AUDIENCE": ""}
    server = start_python_server(argv, "rugzak gateway", env, probe="/health")
    try:
        yield server
    finally:
        server.stop()


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {
        ".".join(map(str, error.get("path") or [])): error["extensions"]["code"]
        for error in body.get("errors", [])
    }


async def test_the_gateway_trusts_both_issuers(idps: TwoIdps, gateway: Server) -> None:
    query = f'{{ me {{ insz }} citizen(insz: "{INSZ}") {{ insz }} }}'

    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:

        async def ask(token: str) -> httpx.Response:
            headers = {"authorization": f"Bearer {token}"}
            return await client.post("/graphql", json={"query": query}, headers=headers)

        # the citizen passes `me` and `citizen(insz:)` with their own INSZ: both are fetched
        # (and fail, the subgraphs being away); the civil servant passes only `citizen`
        citizen = await ask(idps.citizen_token())
        assert citizen.status_code == 200, citizen.text
        assert codes(citizen.json()) == {
            "me": "SUBREQUEST_HTTP_ERROR",
            "citizen": "SUBREQUEST_HTTP_ERROR",
        }
        servant = await ask(idps.staff_token())
        assert servant.status_code == 200, servant.text
        assert codes(servant.json()) == {
            "me": "UNAUTHORIZED_FIELD_OR_TYPE",
            "citizen": "SUBREQUEST_HTTP_ERROR",
        }

        for token, code in (
            (idps.staff_rsa_key.sign(citizen_claims()), C.UNKNOWN_SIGNING_KEY),
            (idps.citizen_token(aud=STAFF_AUDIENCE), C.INVALID_AUDIENCE),
            (idps.staff_token(aud=CITIZENS_AUDIENCE), C.INVALID_AUDIENCE),
        ):
            refused = await ask(token)
            assert refused.status_code == 401, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == code


def rugzak_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--supergraph", "schema.graphql", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--trusted-issuers", '[{"issuer": "https://a.test", "audience": "x"}]'],
            {},
            "--trusted-issuers, issuer 1 (issuer 'https://a.test'): 'jwks_url' is missing",
        ),
        (
            [],
            {"RUGZAK_TRUSTED_ISSUERS": "[{", "RUGZAK_JWKS_URL": ""},
            "RUGZAK_TRUSTED_ISSUERS is not valid JSON",
        ),
    ],
)
def test_bad_issuer_settings_stop_the_gateway_with_a_message(
    args: list[str], env: dict[str, str], message: str
) -> None:
    done = rugzak_serve(*args, "--port", "1", env=env)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    # (every other mistake is checked in-process: tests/auth/test_issuer_settings.py)
