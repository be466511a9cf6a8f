"""Rate limits on the operator's endpoints (issue 13 follow-up): the registry's API, per
organisation (per address without a token), with a lower limit for the calls that compose a
supergraph; and cache invalidation, per verified caller. 429 RATE_LIMITED with Retry-After; on by
default, at rates a municipality's normal use never reaches; set with --rate-limit like the
others.

Rates in the gateways below are a few a minute, so that no bucket refills while a test runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway.rate_limit import (
    DEFAULT_INVALIDATE,
    DEFAULT_REGISTRY,
    DEFAULT_REGISTRY_COMPOSE,
    MemoryBuckets,
    RateLimiter,
    parse_rate_limits,
)
from tests.e2e.stack import Stack, start_gateway
from tests.security.helpers import bearer, metrics
from tests.security.test_rate_limits import check_refusal
from tests.servers import Server

GENT, LEUVEN = "44021", "24062"
NOT_A_SUBGRAPH = {"url": "ftp://nowhere"}  # refused before anything is fetched or composed


def org_token(stack: Stack, org: str) -> dict[str, str]:
    token = stack.issuer.mint(subject=f"ci-{org}", scopes=["registry:write"], organisation=org)
    return {"authorization": f"Bearer {token}"}


def check(gateway: Server, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        gateway.url + "/registry/check/probe", json=NOT_A_SUBGRAPH, headers=headers, timeout=30
    )


def listing(gateway: Server, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(gateway.url + "/registry/subgraphs", headers=headers or {}, timeout=30)


def registry_refusal(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "RATE_LIMITED"
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= 60
    return wait


def test_registry_calls_per_organisation_with_a_lower_limit_for_composing(
    stack: Stack, tmp_path: Path
) -> None:
    flags = (
        "--registry", f"sqlite:{tmp_path / 'registry.sqlite3'}",
        "--rate-limit", "registry=5/min",
        "--rate-limit", "registry-compose=2/min",
    )  # fmt: skip
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        gent = org_token(stack, GENT)
        assert [check(gateway, gent).status_code for _ in range(2)] == [400, 400]
        assert 20 < registry_refusal(check(gateway, gent)) <= 30  # one of two a minute
        # reads are not held back by the composing limit, nor is another organisation
        assert listing(gateway, gent).status_code == 200
        assert check(gateway, org_token(stack, LEUVEN)).status_code == 400
        # a new token of the same organisation shares its buckets
        assert listing(gateway, org_token(stack, GENT)).status_code == 200
        # 2 checks and 2 reads so far (the refused check took nothing): one more, then no more
        assert listing(gateway, gent).status_code == 200
        registry_refusal(listing(gateway, gent))
        # without a token: per address
        assert [listing(gateway).status_code for _ in range(5)] == [401] * 5
        registry_refusal(listing(gateway))
        counted = metrics(gateway.url, stack.issuer)
        assert counted['rugzak_rate_limited_total{limit="registry-compose"}'] == 1
        assert counted['rugzak_rate_limited_total{limit="registry"}'] == 2


def invalidate(gateway: Server, headers: dict[str, str]) -> httpx.Response:
    body = {"tags": ["Ticket:1"]}
    return httpx.post(gateway.url + "/cache/invalidate", json=body, headers=headers, timeout=10)


def test_cache_invalidation_per_verified_caller(stack: Stack) -> None:
    flags = ("--rate-limit", "invalidate=2/min")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        ops = bearer(stack.issuer, "ops", scopes=["cache:invalidate"])
        forged = {"authorization": "Bearer not.a.token"}
        assert invalidate(gateway, forged).status_code == 401  # unverified: takes nothing
        assert [invalidate(gateway, ops).status_code for _ in range(2)] == [200, 200]
        check_refusal(invalidate(gateway, ops), "invalidate")
        other = bearer(stack.issuer, "other-ops", scopes=["cache:invalidate"])
        assert invalidate(gateway, other).status_code == 200


async def test_the_defaults_leave_a_municipalitys_normal_use_alone() -> None:
    limits = parse_rate_limits([])
    assert (limits.registry, limits.registry_compose, limits.invalidate) == (
        DEFAULT_REGISTRY,
        DEFAULT_REGISTRY_COMPOSE,
        DEFAULT_INVALIDATE,
    )
    assert limits.registry_compose is not None and limits.registry is not None
    assert limits.registry_compose.per_second < limits.registry.per_second
    limiter = RateLimiter(limits, MemoryBuckets())
    from auth.principal import Principal

    ci = Principal(subject="ci-44021", organisation=GENT, issuer="i", token="t")
    # a monorepo's pipeline checks then adds a dozen subgraphs at once, then lists them
    for _ in range(24):
        assert await limiter.admit_registry(ci, None, composes=True) is None
    for _ in range(50):
        assert await limiter.admit_registry(ci, None, composes=False) is None
    # a subgraph invalidating what it changes, a hundred changes in a burst
    for _ in range(100):
        assert await limiter.admit_invalidation("subgraph\x00ticketing") is None
    # and each is off when set so
    off = parse_rate_limits(["registry=off", "registry-compose=off", "invalidate=off"])
    assert (off.registry, off.registry_compose, off.invalidate) == (None, None, None)


@pytest.mark.parametrize("bad", ["registry.app=1/s", "invalidate=fast"])
def test_a_bad_operator_limit_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limits([bad])
