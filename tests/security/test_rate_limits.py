"""Rate limits (issue 13, point 6) over real gateways: a token bucket per principal, per client
application and per anonymous address; 429 with Retry-After and RATE_LIMITED; X-Forwarded-For
believed only from trusted proxies; buckets shared through a real redis-server by two gateway
processes, and limits kept (in each process) while that Redis is down.

Rates are slow (a few a minute) so that no bucket refills while a test runs: the counts below do
not depend on the machine's speed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.stack import ANN, BRAM, Stack, start_gateway
from tests.redis_server import redis_server
from tests.security.helpers import bearer, metrics
from tests.servers import Server

QUERY = {"query": "{ __typename }"}


def ask(gateway: Server, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(gateway.url + "/graphql", json=QUERY, headers=headers or {}, timeout=10)


def statuses(gateway: Server, count: int, headers: dict[str, str] | None = None) -> list[int]:
    return [ask(gateway, headers).status_code for _ in range(count)]


def check_refusal(response: httpx.Response, limit: str) -> float:
    """The 429 is a GraphQL error with RATE_LIMITED and an honest Retry-After."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["limit"] == limit
    wait = float(error["extensions"]["retryAfter"])
    assert 0 < wait <= 60
    header = response.headers["retry-after"]
    assert header.isdigit() and int(header) >= wait and int(header) - wait < 1
    return wait


def test_per_principal(stack: Stack) -> None:
    flags = ("--rate-limit", "principal=3/min")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        ann = bearer(stack.issuer, "ann", insz=ANN)
        assert statuses(gateway, 3, ann) == [200, 200, 200]
        refused = ask(gateway, ann)
        wait = check_refusal(refused, "principal")
        assert 15 < wait <= 20  # one token of three a minute
        # the same subject in a new token is the same principal
        again = bearer(stack.issuer, "ann", insz=ANN)
        check_refusal(ask(gateway, again), "principal")
        # others are not held back, anonymous callers neither (no ip limit set)
        assert statuses(gateway, 3, bearer(stack.issuer, "bram", insz=BRAM)) == [200] * 3
        assert statuses(gateway, 5) == [200] * 5
        counted = metrics(gateway.url, stack.issuer)
        assert counted['rugzak_rate_limited_total{limit="principal"}'] == 2
        assert counted['rugzak_requests_total{status="429"}'] == 2


def test_per_client_application(stack: Stack) -> None:
    flags = (
        "--rate-limit", "client=4/min",
        "--rate-limit", "client.big-app=off",
        "--rate-limit", "principal.kiosk=1/min",
    )  # fmt: skip
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        # four citizens through one application empty its bucket
        for n in range(4):
            citizen = bearer(stack.issuer, f"citizen-{n}", client_id="small-app")
            assert ask(gateway, citizen).status_code == 200
        fifth = bearer(stack.issuer, "citizen-5", client_id="small-app")
        check_refusal(ask(gateway, fifth), "client")
        # another application has its own bucket; one without a limit has none
        assert ask(gateway, bearer(stack.issuer, "c6", client_id="other-app")).status_code == 200
        big = bearer(stack.issuer, "c7", client_id="big-app")
        assert statuses(gateway, 8, big) == [200] * 8
        # a rate for the principals of one application
        kiosk = bearer(stack.issuer, "c8", client_id="kiosk")
        assert ask(gateway, kiosk).status_code == 200
        check_refusal(ask(gateway, kiosk), "principal")


def test_per_address_for_anonymous_callers_and_no_spoofing(stack: Stack) -> None:
    flags = ("--rate-limit", "ip=3/min")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        assert statuses(gateway, 3) == [200, 200, 200]
        check_refusal(ask(gateway), "ip")
        # without trusted proxies, X-Forwarded-For changes nothing: the peer is the caller
        for spoof in ("203.0.113.9", "198.51.100.1, 203.0.113.10", "::1", "garbage"):
            check_refusal(ask(gateway, {"x-forwarded-for": spoof}), "ip")
        check_refusal(ask(gateway, {"forwarded": "for=203.0.113.11"}), "ip")
        # callers with a token are counted as principals, not by address
        assert ask(gateway, bearer(stack.issuer, "ann", insz=ANN)).status_code == 200


def test_trusted_proxy(stack: Stack) -> None:
    flags = ("--rate-limit", "ip=2/min", "--trusted-proxy", "127.0.0.1/32")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        one = {"x-forwarded-for": "203.0.113.7"}
        assert statuses(gateway, 2, one) == [200, 200]
        check_refusal(ask(gateway, one), "ip")
        # another caller behind the proxy has its own bucket
        assert ask(gateway, {"x-forwarded-for": "203.0.113.8"}).status_code == 200
        # what the caller wrote left of what the proxy appended is not believed
        spoofed = {"x-forwarded-for": "198.51.100.1, 203.0.113.7"}
        check_refusal(ask(gateway, spoofed), "ip")
        # two proxies (both trusted) in front of the caller
        chain = {"x-forwarded-for": "203.0.113.7, 127.0.0.1"}
        check_refusal(ask(gateway, chain), "ip")
        # a request from the proxy itself
        assert statuses(gateway, 2) == [200, 200]
        check_refusal(ask(gateway), "ip")


def test_a_refused_request_takes_no_token_and_the_bucket_refills(stack: Stack) -> None:
    flags = ("--rate-limit", "principal=20/s:1")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        ann = bearer(stack.issuer, "ann", insz=ANN)
        assert ask(gateway, ann).status_code == 200
        response = ask(gateway, ann)
        if response.status_code == 429:  # (a slow machine may already have refilled it)
            wait = check_refusal(response, "principal")
            assert wait <= 0.05
            assert response.headers["retry-after"] == "1"
        time.sleep(0.06)  # one token back, whatever the refusals in between
        assert ask(gateway, ann).status_code == 200


def test_redis_buckets_are_shared_by_two_gateways_and_survive_its_loss(
    stack: Stack, tmp_path: Path
) -> None:
    with redis_server() as redis:
        flags = (
            "--cache",
            redis.url,
            "--rate-limit",
            "principal=4/min",
            "--rate-limit",
            "ip=2/min",
        )
        with (
            start_gateway(stack.env, stack.subgraph_urls(), *flags) as a,
            start_gateway(stack.env, stack.subgraph_urls(), *flags) as b,
        ):
            ann = bearer(stack.issuer, "ann", insz=ANN)
            assert [ask(g, ann).status_code for g in (a, b, a, b)] == [200] * 4
            check_refusal(ask(a, ann), "principal")
            check_refusal(ask(b, ann), "principal")
            assert [ask(g).status_code for g in (a, b)] == [200, 200]
            check_refusal(ask(b), "ip")
            assert metrics(a.url, stack.issuer)["rugzak_rate_limit_store_up"] == 1

            redis.kill()
            # each gateway now limits alone, in memory: never all refused, never unlimited
            bram = bearer(stack.issuer, "bram", insz=BRAM)
            answers = statuses(a, 6, bram)
            assert answers == [200] * 4 + [429] * 2, answers
            assert statuses(b, 6, bram) == [200] * 4 + [429] * 2
            counted = metrics(a.url, stack.issuer)
            assert counted["rugzak_rate_limit_store_up"] == 0
            assert counted["rugzak_rate_limit_fallbacks_total"] >= 6
            assert not any(k.startswith('rugzak_requests_total{status="5') for k in counted)
