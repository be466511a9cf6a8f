"""The JWKS over real loopback HTTP: caching, the rate-limited refetch, coalescing, outages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from auth.errors import AuthErrorCode
from auth.verifier import TokenVerifier, TrustedIssuer
from tests.auth.helpers import (
    AUDIENCE,
    ISSUER,
    FakeMonotonic,
    JwksServer,
    Signer,
    claims,
    expect_error,
    jwks,
)

C = AuthErrorCode


def make_verifier(url: str, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(ISSUER, AUDIENCE, url)], **kwargs)


async def test_valid_token_with_jwks_over_http(
    jwks_server: JwksServer, rsa_signer: Signer, ec_signer: Signer
) -> None:
    verifier = make_verifier(jwks_server.url)
    assert (await verifier.verify(rsa_signer.sign(claims()))).subject == "opaque-subject-1"
    assert (await verifier.verify(ec_signer.sign(claims()))).subject == "opaque-subject-1"
    assert jwks_server.requests == 1  # fetched lazily once, then cached


async def test_no_fetch_before_the_first_token(jwks_server: JwksServer) -> None:
    make_verifier(jwks_server.url)
    await asyncio.sleep(0)
    assert jwks_server.requests == 0


async def test_untrusted_issuer_causes_no_fetch(
    jwks_server: JwksServer, rsa_signer: Signer
) -> None:
    verifier = make_verifier(jwks_server.url)
    token = rsa_signer.sign(claims(iss="https://evil.example.test"))
    await expect_error(verifier.verify(token), C.UNTRUSTED_ISSUER, token=token)
    assert jwks_server.requests == 0


async def test_jwks_is_refetched_after_the_ttl(jwks_server: JwksServer, rsa_signer: Signer) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(jwks_server.url, jwks_ttl_seconds=300, monotonic=clock)
    token = rsa_signer.sign(claims())
    await verifier.verify(token)
    clock.advance(299)
    await verifier.verify(token)
    assert jwks_server.requests == 1
    clock.advance(2)
    await verifier.verify(token)
    assert jwks_server.requests == 2


async def test_unknown_kid_one_refetch_then_error_and_rate_limit(
    jwks_server: JwksServer, other_rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(jwks_server.url, monotonic=clock)
    token = other_rsa_signer.sign(claims())

    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert jwks_server.requests == 1  # the initial fetch; a refetch right after it is not allowed

    clock.advance(10)
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert jwks_server.requests == 2  # one refetch, then the error

    for kid in ("k1", "k2", "k3", "k4", "k5"):
        forged = other_rsa_signer.with_kid(kid).sign(claims())
        await expect_error(verifier.verify(forged), C.UNKNOWN_SIGNING_KEY, token=forged)
        clock.advance(1.5)
    assert jwks_server.requests == 2  # 7.5 s later: still no refetch

    clock.advance(3)
    await expect_error(verifier.verify(token), C.UNKNOWN_SIGNING_KEY, token=token)
    assert jwks_server.requests == 3  # 10.5 s after the last: one more


async def test_key_rotation_is_picked_up_by_the_refetch(
    jwks_server: JwksServer, rsa_signer: Signer, other_rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(jwks_server.url, monotonic=clock)
    await verifier.verify(rsa_signer.sign(claims()))
    jwks_server.document = jwks(rsa_signer, other_rsa_signer)  # the IdP publishes a new key
    clock.advance(30)
    principal = await verifier.verify(other_rsa_signer.sign(claims()))
    assert principal.subject == "opaque-subject-1"
    assert jwks_server.requests == 2


async def test_concurrent_first_use_fetches_once(
    jwks_server: JwksServer, rsa_signer: Signer
) -> None:
    jwks_server.delay = 0.3
    verifier = make_verifier(jwks_server.url)
    tokens = [rsa_signer.sign(claims(sub=f"user-{i}")) for i in range(20)]
    principals = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    assert [p.subject for p in principals] == [f"user-{i}" for i in range(20)]
    assert jwks_server.requests == 1


async def test_concurrent_unknown_kids_refetch_once(
    jwks_server: JwksServer, rsa_signer: Signer, other_rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(jwks_server.url, monotonic=clock)
    await verifier.verify(rsa_signer.sign(claims()))
    clock.advance(60)
    jwks_server.delay = 0.3
    jwks_server.document = jwks(rsa_signer, other_rsa_signer)
    new_key_tokens = [other_rsa_signer.sign(claims(sub=f"u{i}")) for i in range(5)]
    forged = [other_rsa_signer.with_kid(f"nope-{i}").sign(claims()) for i in range(10)]
    results = await asyncio.gather(
        *(verifier.verify(token) for token in new_key_tokens + forged), return_exceptions=True
    )
    assert [getattr(r, "subject", None) for r in results[:5]] == [f"u{i}" for i in range(5)]
    assert all(getattr(r, "code", None) == C.UNKNOWN_SIGNING_KEY for r in results[5:])
    assert jwks_server.requests == 2  # the first fetch and one coalesced refetch


async def test_jwks_server_down(rsa_signer: Signer) -> None:
    server = JwksServer(jwks(rsa_signer)).start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    verifier = make_verifier(url)
    token = rsa_signer.sign(claims())
    error = await expect_error(verifier.verify(token), C.AUTH_PROVIDER_UNAVAILABLE, token=token)
    assert error.http_status == 503
    assert "127.0.0.1" not in error.message and "jwks" not in error.message.lower()


@pytest.mark.parametrize(
    "breakage",
    [
        {"status": 500},
        {"status": 404},
        {"raw_body": b"<html>maintenance</html>"},
        {"raw_body": b'{"keys": "none"}'},
        {"raw_body": b"[]"},
        {"raw_body": b"{" + b'"x":"' + b"y" * (1 << 20) + b'"}'},  # over 1 MiB
        {"redirect_to": "http://127.0.0.1:9/jwks"},  # redirects are not followed
    ],
)
async def test_jwks_server_misbehaves(
    jwks_server: JwksServer, rsa_signer: Signer, breakage: dict[str, Any]
) -> None:
    for name, value in breakage.items():
        setattr(jwks_server, name, value)
    token = rsa_signer.sign(claims())
    verifier = make_verifier(jwks_server.url)
    await expect_error(verifier.verify(token), C.AUTH_PROVIDER_UNAVAILABLE, token=token)


async def test_jwks_server_too_slow(jwks_server: JwksServer, rsa_signer: Signer) -> None:
    jwks_server.delay = 1.0
    verifier = make_verifier(jwks_server.url, jwks_timeout_seconds=0.2)
    token = rsa_signer.sign(claims())
    await expect_error(verifier.verify(token), C.AUTH_PROVIDER_UNAVAILABLE, token=token)


async def test_failed_fetches_are_rate_limited_too(
    jwks_server: JwksServer, rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    jwks_server.status = 503
    verifier = make_verifier(jwks_server.url, monotonic=clock)
    token = rsa_signer.sign(claims())
    for _ in range(5):
        await expect_error(verifier.verify(token), C.AUTH_PROVIDER_UNAVAILABLE)
    assert jwks_server.requests == 1
    jwks_server.status = 200  # the IdP recovers
    clock.advance(10)
    await verifier.verify(token)
    assert jwks_server.requests == 2


async def test_cached_keys_outlive_a_short_outage(
    jwks_server: JwksServer, rsa_signer: Signer
) -> None:
    clock = FakeMonotonic()
    verifier = make_verifier(
        jwks_server.url, monotonic=clock, jwks_ttl_seconds=300, jwks_stale_if_error_seconds=600
    )
    token = rsa_signer.sign(claims())
    await verifier.verify(token)
    jwks_server.status = 500
    clock.advance(400)  # expired, refetch fails: the cached keys still serve
    await verifier.verify(token)
    clock.advance(5)  # within the failure back-off: no new attempt
    await verifier.verify(token)
    assert jwks_server.requests == 2
    clock.advance(600)  # beyond TTL + stale window
    await expect_error(verifier.verify(token), C.AUTH_PROVIDER_UNAVAILABLE)
    assert jwks_server.requests == 3


async def test_a_shared_http_client_is_used(jwks_server: JwksServer, rsa_signer: Signer) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
        verifier = make_verifier(jwks_server.url, http=client)
        await verifier.verify(rsa_signer.sign(claims()))
        assert not client.is_closed
    assert seen == [jwks_server.url]


async def test_each_issuer_has_its_own_cache(rsa_signer: Signer, other_rsa_signer: Signer) -> None:
    first = JwksServer(jwks(rsa_signer)).start()
    second = JwksServer(jwks(other_rsa_signer)).start()
    try:
        verifier = TokenVerifier(
            [
                TrustedIssuer(ISSUER, AUDIENCE, first.url),
                TrustedIssuer("https://b.example.test", AUDIENCE, second.url),
            ]
        )
        await verifier.verify(rsa_signer.sign(claims()))
        await verifier.verify(other_rsa_signer.sign(claims(iss="https://b.example.test")))
        assert (first.requests, second.requests) == (1, 1)
    finally:
        first.stop()
        second.stop()


async def test_aclose_cancels_a_fetch_under_way(
    jwks_server: JwksServer, rsa_signer: Signer
) -> None:
    jwks_server.delay = 0.5
    verifier = make_verifier(jwks_server.url)
    pending = asyncio.ensure_future(verifier.verify(rsa_signer.sign(claims())))
    await asyncio.sleep(0.1)
    await verifier.aclose()
    with pytest.raises(asyncio.CancelledError):
        await pending
    jwks_server.delay = 0
    assert (await verifier.verify(rsa_signer.sign(claims()))).subject  # usable afterwards
