"""auth/gateway_signature.py: what a signature covers, and every way a verifier refuses one."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from auth.gateway_signature import (
    DEFAULT_WINDOW_SECONDS,
    GatewaySignatureError,
    GatewaySignatureVerifier,
    GatewaySigner,
    parse_secrets,
    secrets_from_env,
)
from auth.invalidation_keys import InvalidationKeys, derive_key

SECRET = b"s" * 32
OLD_SECRET = b"o" * 40
NOW = 1_700_000_000.0
BODY = b'{"tags":["Ticket:7"]}'
HEADERS = {"x-rugzak-subgraph": "ticketing"}


def clock(at: float = NOW) -> float:
    return at


def sign(
    secret: bytes = SECRET,
    at: float = NOW,
    method: str = "POST",
    target: str = "/graphql",
    body: bytes = BODY,
    headers: dict[str, str] = HEADERS,
) -> str:
    return GatewaySigner(secret, clock=lambda: at).sign(method, target, body, headers)


def verifier(*secrets: bytes, window: float = DEFAULT_WINDOW_SECONDS) -> GatewaySignatureVerifier:
    return GatewaySignatureVerifier(secrets or (SECRET,), window=window, clock=clock)


def refusal(
    signature: str | None,
    method: str = "POST",
    target: str = "/graphql",
    body: bytes = BODY,
    headers: dict[str, str] = HEADERS,
    checker: GatewaySignatureVerifier | None = None,
) -> str:
    with pytest.raises(GatewaySignatureError) as caught:
        (checker or verifier()).verify(signature, method, target, body, headers)
    assert SECRET.decode() not in caught.value.message
    return caught.value.code


def test_the_header_is_a_timestamp_and_an_hmac_sha256_of_the_documented_message() -> None:
    message = b"1700000000\nPOST\n/graphql\nticketing\n" + BODY
    digest = hmac.new(SECRET, message, hashlib.sha256).hexdigest()
    assert sign() == f"t=1700000000,v1={digest}"


def test_a_signature_verifies() -> None:
    verifier().verify(sign(), "POST", "/graphql", BODY, HEADERS)
    verifier().verify(sign(method="post"), "POST", "/graphql", BODY, HEADERS)  # one spelling


def test_absent_headers_are_signed_as_empty() -> None:
    signature = sign(headers={})
    verifier().verify(signature, "POST", "/graphql", BODY, {})
    assert refusal(signature, headers={"x-rugzak-subgraph": "x"}) == "INVALID_GATEWAY_SIGNATURE"


@pytest.mark.parametrize("signature", [None, ""])
def test_no_signature_is_its_own_code(signature: str | None) -> None:
    assert refusal(signature) == "GATEWAY_SIGNATURE_REQUIRED"


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("body", {"body": BODY.replace(b"7", b"8")}),
        ("body with a byte added", {"body": BODY + b" "}),
        ("method", {"method": "GET"}),
        ("path", {"target": "/"}),
        ("query string", {"target": "/graphql?x=1"}),
        ("signer", {"headers": {"x-rugzak-subgraph": "education"}}),
        ("no signer", {"headers": {}}),
    ],
)
def test_a_signature_covers_each_part_of_the_request(what: str, change: dict[str, Any]) -> None:
    assert refusal(sign(), **change) == "INVALID_GATEWAY_SIGNATURE"


def test_another_secret_does_not_verify() -> None:
    assert refusal(sign(secret=b"x" * 32)) == "INVALID_GATEWAY_SIGNATURE"


@pytest.mark.parametrize("age", [-61, 61, -3600, 86_400 * 365])
def test_a_timestamp_outside_the_window_is_refused(age: float) -> None:
    assert refusal(sign(at=NOW - age)) == "INVALID_GATEWAY_SIGNATURE"


@pytest.mark.parametrize("age", [-60, -1, 0, 1, 60])
def test_a_timestamp_inside_the_window_is_accepted(age: float) -> None:
    verifier().verify(sign(at=NOW - age), "POST", "/graphql", BODY, HEADERS)


def test_the_window_is_configurable() -> None:
    verifier(window=5).verify(sign(at=NOW - 5), "POST", "/graphql", BODY, HEADERS)
    assert refusal(sign(at=NOW - 6), checker=verifier(window=5)) == "INVALID_GATEWAY_SIGNATURE"
    with pytest.raises(ValueError):
        verifier(window=0)


def test_rotation_accepts_any_listed_secret() -> None:
    both = verifier(SECRET, OLD_SECRET)
    both.verify(sign(secret=SECRET), "POST", "/graphql", BODY, HEADERS)
    both.verify(sign(secret=OLD_SECRET), "POST", "/graphql", BODY, HEADERS)
    assert refusal(sign(secret=OLD_SECRET)) == "INVALID_GATEWAY_SIGNATURE"  # old one dropped


def test_any_matching_v1_of_several_is_enough() -> None:
    good = sign().split(",v1=")[1]
    verifier().verify(f"t=1700000000,v1={'0' * 64},v1={good}", "POST", "/graphql", BODY, HEADERS)
    verifier().verify(f"v1={good}, t=1700000000,v2=future", "POST", "/graphql", BODY, HEADERS)


@pytest.mark.parametrize(
    "signature",
    [
        "garbage",
        "t=1700000000",
        "v1=" + "0" * 64,
        "t=,v1=" + "0" * 64,
        "t=-5,v1=" + "0" * 64,
        "t=1e9,v1=" + "0" * 64,
        "t=\uff11\uff17,v1=" + "0" * 64,  # digits, but not ASCII ones
        "t=1700000000,t=1700000000,v1=" + "0" * 64,
        "t=1700000000,v1=" + "0" * 63,
        "t=1700000000,v1=" + "G" * 64,
        "t=1700000000,v1=" + "A" * 64,  # upper-case hex is not what signers write
        "t=1700000000,v1",
        "t=9999999999999,v1=" + "0" * 64,
        "t=1700000000,v1=" + "0" * 64 + "," + "x=y," * 300,
    ],
)
def test_a_malformed_signature_is_refused(signature: str) -> None:
    assert refusal(signature) == "INVALID_GATEWAY_SIGNATURE"


def test_a_line_feed_in_a_signed_field_cannot_make_two_requests_sign_alike() -> None:
    with pytest.raises(ValueError):
        sign(target="/graphql\nPOST")
    forged = sign(headers={"x-rugzak-subgraph": "a"})
    assert refusal(forged, headers={"x-rugzak-subgraph": "a\n"}) == "INVALID_GATEWAY_SIGNATURE"


@pytest.mark.parametrize("secret", [b"", b"short", b"x" * 31])
def test_secrets_are_at_least_32_bytes(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        GatewaySigner(secret)
    with pytest.raises(ValueError):
        GatewaySignatureVerifier([SECRET, secret])


def test_a_verifier_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        GatewaySignatureVerifier([])


def test_secrets_are_written_comma_or_line_separated() -> None:
    text = f" {'a' * 32} , {'b' * 32}\n\n{'c' * 32}\n"
    assert parse_secrets(text) == (b"a" * 32, b"b" * 32, b"c" * 32)
    assert parse_secrets("é" * 16) == (("é" * 16).encode(),)  # 16 characters, 32 bytes
    with pytest.raises(ValueError):
        parse_secrets(" , \n")


def test_secrets_from_the_environment(tmp_path: Path) -> None:
    names = ("RUGZAK_INVALIDATION_SECRET", "RUGZAK_INVALIDATION_SECRET_FILE")

    def read(env: dict[str, str]) -> tuple[bytes, ...]:
        return secrets_from_env(*names, env)

    assert read({}) == ()
    assert read({names[0]: " "}) == ()
    value = f"{'n' * 32},{'o' * 32}"
    assert read({names[0]: value}) == (b"n" * 32, b"o" * 32)
    path = tmp_path / "secret"
    path.write_text(f"{'f' * 40}\n")
    assert read({names[1]: str(path)}) == (b"f" * 40,)
    with pytest.raises(ValueError, match="not both"):
        read({names[0]: value, names[1]: str(path)})
    with pytest.raises(ValueError, match="at least 32 bytes"):
        read({names[0]: "too-short"})
    with pytest.raises(OSError):
        read({names[1]: str(tmp_path / "missing")})


def test_each_subgraph_has_a_key_of_its_own() -> None:
    """Derived from the gateway's master: the gateway checks it without storing it, and no
    subgraph's key is another's, or the master."""
    master = b"m" * 32
    keys = {name: derive_key(master, name) for name in ("education", "ticketing", "ticketinG")}
    assert len(set(keys.values())) == 3 and master not in keys.values()
    assert all(len(key) == 43 for key in keys.values())
    assert derive_key(master, "ticketing") == keys["ticketing"]
    assert derive_key(b"n" * 32, "ticketing") != keys["ticketing"]
    headers = {"x-rugzak-subgraph": "ticketing"}
    signature = GatewaySigner(keys["ticketing"]).sign("POST", "/cache/invalidate", BODY, headers)
    checked = InvalidationKeys((b"n" * 32, master))  # rotating: either master's keys verify
    checked.verifier("ticketing").verify(signature, "POST", "/cache/invalidate", BODY, headers)
    with pytest.raises(GatewaySignatureError):
        checked.verifier("education").verify(
            signature, "POST", "/cache/invalidate", BODY, {"x-rugzak-subgraph": "education"}
        )
    with pytest.raises(ValueError):
        InvalidationKeys(())
