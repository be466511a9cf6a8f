"""Faults under steady load, with real processes: education killed, frozen (SIGSTOP), slow, or
answering garbage, 503, HTML or truncated bodies (a fault proxy in front of it); Redis killed
under a gateway that caches in it; PostgreSQL stopped under a gateway whose registry uses it.

What is asserted is behaviour: no 5xx and no request left without an answer; during the fault,
partial answers (the citizen's profile without education's part) with the right codes at the
right paths; the circuit breaker opens, and everything recovers once the fault ends; /ready
tells. How fast is measured and reported (the table at the end, JSON in the tmp dir), not
asserted: the machine is shared."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN
from tests.resilience.harness import (
    PHASE,
    PgCluster,
    RedisProcess,
    Report,
    World,
    metric,
    profile_body,
    ready,
    wait_for,
)
from tests.resilience.load import Load, RssSampler, Sample, percentile, summary

CIRCUIT_OPEN = "SUBREQUEST_CIRCUIT_OPEN"
HTTP_ERROR = "SUBREQUEST_HTTP_ERROR"
MALFORMED = "SUBREQUEST_MALFORMED_RESPONSE"
TIMEOUT = "SUBREQUEST_TIMEOUT"
# how long a fault may take to heal before the test gives up (a bound on waiting, not a goal)
RECOVERY_BOUND = 30.0


@pytest.fixture(autouse=True)
def _restored(world: World) -> Iterator[None]:
    yield
    world.restore()


def complete(sample: Sample) -> bool:
    body = sample.body
    return (
        sample.status == 200
        and isinstance(body, dict)
        and not body.get("errors")
        and isinstance(body.get("data"), dict)
        and isinstance(body["data"].get("me"), dict)
        and body["data"]["me"].get("qualifications") is not None
    )


def check_partial(sample: Sample, codes: set[str]) -> None:
    """An answer while education fails: the rest of the profile, education's part null, every
    error education's, with one of `codes`, at a path under `me`."""
    if raced(sample):
        return  # the client's keep-alive race (see Sample.lost): no_failures counts the rest
    assert sample.status == 200, (sample.status, sample.body)
    me = sample.body["data"]["me"]
    assert me is not None and me["insz"] == ANN
    if complete(sample):
        return
    assert me["qualifications"] is None
    assert me["childBenefits"] and me["tickets"], "the other subgraphs' parts are answered"
    for error in sample.body["errors"]:
        assert error["extensions"]["code"] in codes, error
        assert error["extensions"]["service"] == "education", error
        assert error["path"][0] == "me", error


def recovery(load: Load, since: float) -> float | None:
    """Seconds from `since` until the first complete answer to a request sent after it; waits
    for one at most RECOVERY_BOUND seconds."""

    def first() -> float | None:
        done = [s.ended for s in load.since(since) if complete(s)]
        return min(done) if done else None

    if wait_for(lambda: first() is not None, RECOVERY_BOUND) is None:
        return None
    found = first()
    assert found is not None
    return found - since


def healed(load: Load, after: float) -> list[Sample]:
    """The answers to requests sent once recovery was seen: every one must be complete."""
    time.sleep(2 * PHASE)
    later = [s for s in load.since(after) if s.ended < time.monotonic() and not raced(s)]
    assert later, "requests kept going after recovery"
    incomplete = [s.body for s in later if not complete(s)]
    assert not incomplete, incomplete[:3]
    return later


def raced(sample: Sample) -> bool:
    return sample.status == 0 and not sample.lost


def no_failures(samples: list[Sample]) -> None:
    lost = [s.error for s in samples if s.lost]
    assert not lost, f"every request got an HTTP answer: {lost[:3]}"
    assert not [s for s in samples if s.status >= 500], "no 5xx"


def open_latencies(samples: list[Sample], opened: float, until: float) -> dict[str, Any]:
    """Latency of the answers given while the breaker was open (sent after it opened)."""
    fast = [
        s.seconds * 1000
        for s in samples
        if opened <= s.started < until and s.codes == {CIRCUIT_OPEN}
    ]
    return {
        "open_answers": len(fast),
        "open_p50_ms": round(percentile(fast, 50), 1),
        "open_p99_ms": round(percentile(fast, 99), 1),
    }


def first_code(samples: list[Sample], code: str, since: float) -> float | None:
    ended = [s.ended for s in samples if s.started >= since - 30 and code in s.codes]
    ended = [t for t in ended if t >= since]
    return min(ended) - since if ended else None


def education_state(world: World, gateway: Any) -> str:
    state: str = ready(world, gateway)[1]["subgraphs"]["education"]["state"]
    return state


def test_frozen_subgraph_opens_the_breaker_and_recovers(world: World, report: Report) -> None:
    w = world
    headers = w.callers()
    with (
        w.gateway() as gateway,
        RssSampler(gateway.proc.pid) as rss,
        Load(gateway.url + "/graphql", profile_body, headers) as load,
    ):
        time.sleep(2 * PHASE)
        frozen = time.monotonic()
        os.kill(w.education_pid(), signal.SIGSTOP)
        time.sleep(6 * PHASE)
        resumed = time.monotonic()
        os.kill(w.education_pid(), signal.SIGCONT)
        recovered = recovery(load, resumed)
        assert recovered is not None, "full answers again after SIGCONT"
        later = healed(load, resumed + recovered)
        opened = metric(w, gateway, "rugzak_subgraph_breaker_opened_total")
    samples = load.samples
    no_failures(samples)
    during = [s for s in samples if frozen <= s.started < resumed]
    for sample in during:
        check_partial(sample, {CIRCUIT_OPEN})
    open_after = first_code(samples, CIRCUIT_OPEN, frozen)
    assert open_after is not None and opened >= 1, "the breaker opened"
    report.add(
        "frozen (SIGSTOP)",
        {
            **summary(samples, rss),
            **phases(samples, frozen, resumed),
            "breaker_open_after_s": round(open_after, 2),
            **open_latencies(samples, frozen + open_after, resumed),
            "recovered_after_s": round(recovered, 2),
            "complete_after_recovery": len(later),
        },
    )


def test_killed_subgraph_is_reported_and_comes_back(world: World, report: Report) -> None:
    w = world
    headers = w.callers()
    with (
        w.gateway() as gateway,
        RssSampler(gateway.proc.pid) as rss,
        Load(gateway.url + "/graphql", profile_body, headers) as load,
    ):
        time.sleep(2 * PHASE)
        assert education_state(world, gateway) == "up"
        killed = time.monotonic()
        os.kill(w.education_pid(), signal.SIGKILL)
        w.subgraphs["education"].proc.wait(timeout=10)
        seen_down = wait_for(lambda: education_state(world, gateway) != "up", 10, 0.1)
        status, body = ready(world, gateway)
        time.sleep(max(0.0, 6 * PHASE - (time.monotonic() - killed)))
        restarted = time.monotonic()
        w.restore()
        recovered = recovery(load, restarted)
        assert recovered is not None, "full answers again once education is back"
        later = healed(load, restarted + recovered)
        seen_up = wait_for(lambda: education_state(world, gateway) == "up", RECOVERY_BOUND, 0.1)
    samples = load.samples
    no_failures(samples)
    for sample in (s for s in samples if killed <= s.started < restarted):
        check_partial(sample, {HTTP_ERROR, CIRCUIT_OPEN})
    assert seen_down is not None, "/ready says education is not up"
    assert status == 200 and body["status"] == "degraded"
    education = body["subgraphs"]["education"]
    assert education["state"] in ("down", "circuit_open", "degraded")
    assert education["lastCheck"]["outcome"] == "down" or "lastError" in education
    assert body["subgraphs"]["allowances"]["state"] == "up"
    assert seen_up is not None, "/ready says education is up again"
    report.add(
        "killed (SIGKILL)",
        {
            **summary(samples, rss),
            **phases(samples, killed, restarted),
            "ready_reports_down_after_s": round(seen_down, 2),
            "breaker_open_after_s": _round(first_code(samples, CIRCUIT_OPEN, killed)),
            "recovered_after_s": round(recovered, 2),
            "complete_after_recovery": len(later),
        },
    )


# the proxy's modes: the codes education's failed fields may carry, and whether a retry helps
PROXY_FAULTS: dict[str, tuple[set[str], bool]] = {
    "slow": ({CIRCUIT_OPEN, TIMEOUT}, False),
    "status": ({HTTP_ERROR, CIRCUIT_OPEN}, True),
    "nonjson": ({MALFORMED, CIRCUIT_OPEN}, False),
    "garbage_body": ({MALFORMED, CIRCUIT_OPEN}, False),
    "garbage": ({HTTP_ERROR, CIRCUIT_OPEN}, True),
    "truncated": ({HTTP_ERROR, CIRCUIT_OPEN}, True),
}


@pytest.mark.parametrize("mode", list(PROXY_FAULTS))
def test_a_misbehaving_subgraph(world: World, report: Report, mode: str) -> None:
    w = world
    codes, retried = PROXY_FAULTS[mode]
    headers = w.callers()
    with (
        w.gateway(through_proxy=True) as gateway,
        RssSampler(gateway.proc.pid) as rss,
        Load(gateway.url + "/graphql", profile_body, headers) as load,
    ):
        time.sleep(2 * PHASE)
        started = time.monotonic()
        w.fault(mode, delay=3.0)
        time.sleep(6 * PHASE)
        state = education_state(world, gateway)
        ended = time.monotonic()
        w.fault("pass")
        recovered = recovery(load, ended)
        assert recovered is not None, f"full answers again once {mode} ends"
        later = healed(load, ended + recovered)
        retries = metric(w, gateway, "rugzak_subgraph_retries_total")
        opened = metric(w, gateway, "rugzak_subgraph_breaker_opened_total")
    samples = load.samples
    no_failures(samples)
    during = [s for s in samples if started <= s.started < ended]
    for sample in during:
        check_partial(sample, codes)
    seen = set().union(*(s.codes for s in during))
    assert CIRCUIT_OPEN in seen and opened >= 1, "the breaker opened"
    assert state in ("circuit_open", "degraded", "down")
    if retried:
        assert retries >= 1, "a retryable failure was retried (within the budget)"
    opened_after = first_code(samples, CIRCUIT_OPEN, started)
    report.add(
        f"proxy: {mode}",
        {
            **summary(samples, rss),
            **phases(samples, started, ended),
            "codes": sorted(seen),
            "breaker_open_after_s": _round(opened_after),
            **open_latencies(samples, started + (opened_after or 0), ended),
            "retries": retries,
            "recovered_after_s": round(recovered, 2),
            "complete_after_recovery": len(later),
        },
    )


def test_redis_down_costs_nothing_but_the_cache(world: World, report: Report) -> None:
    w = world
    redis = RedisProcess()
    redis.start()
    headers = w.callers()
    try:
        with (
            w.gateway("--cache", redis.url) as gateway,
            RssSampler(gateway.proc.pid) as rss,
            Load(gateway.url + "/graphql", profile_body, headers) as load,
        ):
            time.sleep(2 * PHASE)
            assert ready(world, gateway)[1]["cache"]["up"] is True
            killed = time.monotonic()
            redis.kill()
            seen_down = wait_for(lambda: ready(world, gateway)[1]["cache"]["up"] is False, 10, 0.1)
            status, body = ready(world, gateway)
            time.sleep(max(0.0, 5 * PHASE - (time.monotonic() - killed)))
            redis.start()
            back = time.monotonic()
            seen_up = wait_for(lambda: ready(world, gateway)[1]["cache"]["up"] is True, 10, 0.1)
            time.sleep(2 * PHASE)
    finally:
        redis.kill()
    samples = load.samples
    no_failures(samples)
    incomplete = [s.body for s in samples if not complete(s) and not raced(s)]
    assert not incomplete, incomplete[:3]  # the cache is never needed for an answer
    assert seen_down is not None and status == 200 and body["status"] == "degraded"
    assert body["cache"]["lastError"]
    assert seen_up is not None
    report.add(
        "redis down",
        {
            **summary(samples, rss),
            **phases(samples, killed, back),
            "ready_reports_down_after_s": round(seen_down, 2),
            "ready_reports_up_after_s": round(seen_up, 2),
        },
    )


def test_postgres_down_while_the_registry_is_in_use(world: World, report: Report) -> None:
    w = world
    cluster = PgCluster()
    cluster.start()
    headers = w.callers()
    reader = w.issuer.mint(subject="ops", scopes=("registry:read",))

    def registry_list(gateway: Any) -> httpx.Response:
        return httpx.get(
            gateway.url + "/registry/subgraphs",
            headers={"authorization": f"Bearer {reader}"},
            timeout=30,
        )

    try:
        with w.gateway("--registry", cluster.url) as gateway:
            served = wait_for(
                lambda: ready(world, gateway)[1]["registry"].get("servedVersion", 0) >= 1, 60, 0.2
            )
            assert served is not None, "the registry was seeded and its supergraph served"
            with (
                RssSampler(gateway.proc.pid) as rss,
                Load(gateway.url + "/graphql", profile_body, headers) as load,
            ):
                time.sleep(2 * PHASE)
                assert ready(world, gateway)[1]["registry"]["up"] is True
                stopped = time.monotonic()
                cluster.stop()
                seen_down = wait_for(
                    lambda: ready(world, gateway)[1]["registry"]["up"] is False, 10, 0.1
                )
                status, body = ready(world, gateway)
                refused = registry_list(gateway)
                time.sleep(max(0.0, 5 * PHASE - (time.monotonic() - stopped)))
                cluster.start()
                back = time.monotonic()
                seen_up = wait_for(
                    lambda: ready(world, gateway)[1]["registry"]["up"] is True, 30, 0.1
                )
                listed = registry_list(gateway)
                time.sleep(2 * PHASE)
    finally:
        cluster.remove()
    samples = load.samples
    no_failures(samples)
    incomplete = [s.body for s in samples if not complete(s) and not raced(s)]
    assert not incomplete, incomplete[:3]  # serving never waits on the registry's database
    assert seen_down is not None and status == 200 and body["status"] == "degraded"
    assert body["registry"]["lastError"]
    assert refused.status_code == 503 and refused.json()["code"] == "REGISTRY_UNAVAILABLE"
    assert seen_up is not None and listed.status_code == 200
    report.add(
        "postgresql down",
        {
            **summary(samples, rss),
            **phases(samples, stopped, back),
            "ready_reports_down_after_s": round(seen_down, 2),
            "ready_reports_up_after_s": round(seen_up, 2),
        },
    )


def phases(samples: list[Sample], fault: float, healed_at: float) -> dict[str, Any]:
    """Latency before the fault and while it lasted (until `healed_at`)."""
    before = [s.seconds * 1000 for s in samples if s.started < fault]
    during = [s.seconds * 1000 for s in samples if fault <= s.started < healed_at]
    return {
        "baseline_p50_ms": round(percentile(before, 50), 1),
        "baseline_p99_ms": round(percentile(before, 99), 1),
        "fault_p50_ms": round(percentile(during, 50), 1),
        "fault_p99_ms": round(percentile(during, 99), 1),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
