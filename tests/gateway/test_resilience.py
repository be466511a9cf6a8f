"""The parts of per-subgraph resilience on their own: the circuit breaker's states, the retry
budget, the in-flight cap, and `Resilience.call` putting them together (with a fake attempt
instead of HTTP; tests/resilience runs them against real processes)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.cli import build_parser
from gateway.execution.breaker import BreakerSettings, CircuitBreaker, State
from gateway.execution.in_flight import InFlightLimit, QueueFull
from gateway.execution.resilience import (
    CIRCUIT_OPEN,
    OVERLOADED,
    TIMEOUT,
    Resilience,
    SubgraphPolicies,
    SubgraphPolicy,
)
from gateway.execution.retry import RetryBudget, backoff
from gateway.execution.subgraph_client import SubgraphFailure
from gateway.serve_config import _subgraph_policies


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **settings: Any) -> CircuitBreaker:
    defaults: dict[str, Any] = {"failures": 3, "error_rate": 0, "slow": 0, "open_for": 5.0}
    return CircuitBreaker(BreakerSettings(**{**defaults, **settings}), clock)


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        call = b.admit()
        assert call is not None
        b.done(call, False)


async def test_consecutive_failures_open_it_and_a_trial_closes_it() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 2)
    ok = b.admit()
    assert ok is not None
    b.done(ok, True)  # a success in between starts the count again
    fail(b, 2)
    assert b.state is State.CLOSED
    fail(b, 1)
    assert b.state is State.OPEN and b.admit() is None and b.opened == 1
    clock.now += 4.9
    assert b.admit() is None and b.retry_in() == pytest.approx(0.1)
    clock.now += 0.2
    trial = b.admit()
    assert trial is not None and trial.trial and b.state is State.HALF_OPEN
    assert b.admit() is None  # one trial at a time
    b.done(trial, True)
    assert b.state is State.CLOSED and b.admit() is not None


async def test_a_failed_trial_opens_it_again_for_a_whole_period() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 5
    trial = b.admit()
    assert trial is not None
    b.done(trial, False)
    assert b.state is State.OPEN and b.opened == 2
    clock.now += 4
    assert b.admit() is None


async def test_a_trial_stopped_by_our_own_limits_gives_its_place_to_the_next() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 5
    trial = b.admit()
    assert trial is not None
    b.done(trial, None)
    assert b.state is State.HALF_OPEN
    assert b.admit() is not None


async def test_the_error_rate_opens_it_once_the_window_has_enough_calls() -> None:
    clock = Clock()
    b = breaker(clock, failures=0, error_rate=0.5, min_calls=10)
    for i in range(9):
        call = b.admit()
        assert call is not None
        b.done(call, i % 2 == 0)  # 5 good, 4 bad: under the minimum anyway
        clock.now += 0.1
    assert b.state is State.CLOSED
    fail(b, 1)  # 10 calls, 5 bad
    assert b.state is State.OPEN


async def test_old_calls_leave_the_window() -> None:
    clock = Clock()
    b = breaker(clock, failures=0, error_rate=0.5, min_calls=4, window=10.0)
    fail(b, 3)
    clock.now += 11  # those failures are history
    for _ in range(3):
        call = b.admit()
        assert call is not None
        b.done(call, True)
    fail(b, 1)
    assert b.state is State.CLOSED and b.totals() == (3, 1)


async def test_a_call_counts_as_slow_while_it_waits_and_opening_releases_the_waiting() -> None:
    b = CircuitBreaker(BreakerSettings(failures=2, error_rate=0, slow=0.05, open_for=60))
    released: list[int] = []
    calls = [b.admit() for _ in range(2)]
    for i, call in enumerate(calls):
        assert call is not None
        call.release = lambda i=i: released.append(i)  # type: ignore[misc]
    await asyncio.sleep(0.5)  # both have waited longer than `slow`: two slow calls
    assert b.state is State.OPEN
    assert sorted(released) == [0, 1]
    for call in calls:
        assert call is not None
        b.done(call, True)  # a late answer of a call from before it opened changes nothing
    assert b.state is State.OPEN


async def test_time_the_gateway_itself_was_busy_does_not_make_a_call_slow() -> None:
    b = CircuitBreaker(BreakerSettings(failures=1, error_rate=0, slow=0.1, open_for=60))
    call = b.admit()
    assert call is not None
    time.sleep(0.3)  # the event loop blocked (planning, say): the subgraph may have answered
    await asyncio.sleep(0)  # the watchdog runs late, and knows it
    b.done(call, True)
    assert not call.slow and b.state is State.CLOSED


async def test_a_disabled_breaker_never_opens() -> None:
    b = breaker(Clock(), failures=0, error_rate=0)
    fail(b, 50)
    assert b.state is State.CLOSED


def test_the_retry_budget_is_a_share_of_requests_plus_a_minimum() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.1, window=10, minimum=2, clock=clock)
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
    for _ in range(30):
        budget.request()
    assert [budget.try_retry() for _ in range(4)] == [True, True, True, False]
    clock.now += 11  # a new window
    assert budget.try_retry()
    assert not RetryBudget(ratio=0).try_retry()


def test_backoff_is_jittered_under_a_growing_ceiling() -> None:
    for attempt, ceiling in ((1, 0.025), (2, 0.05), (3, 0.1), (10, 0.5)):
        values = {backoff(attempt) for _ in range(50)}
        assert all(0 <= v <= ceiling for v in values) and len(values) > 1


async def test_the_in_flight_cap_queues_up_to_its_bound_then_refuses() -> None:
    limit = InFlightLimit(2, 1)
    await limit.acquire(1)
    await limit.acquire(1)
    waiting = asyncio.ensure_future(limit.acquire(5))
    await asyncio.sleep(0)
    assert limit.waiting == 1 and limit.in_flight == 2
    with pytest.raises(QueueFull):
        await limit.acquire(1)
    limit.release()
    await waiting
    assert limit.in_flight == 2 and limit.waiting == 0
    with pytest.raises(TimeoutError):
        await limit.acquire(0.01)
    assert limit.waiting == 0


class Attempts:
    """A fake subgraph: answers (or failures) in turn, each after `delay` seconds."""

    def __init__(self, *results: dict[str, Any] | SubgraphFailure, delay: float = 0.0) -> None:
        self.results = list(results)
        self.delay = delay
        self.timeouts: list[float] = []

    async def __call__(self, timeout: float) -> dict[str, Any] | SubgraphFailure:
        self.timeouts.append(timeout)
        await asyncio.sleep(self.delay)
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


DOWN = SubgraphFailure("SUBREQUEST_HTTP_ERROR", "connection refused", retryable=True)
BROKEN = SubgraphFailure("SUBREQUEST_MALFORMED_RESPONSE", "response is not JSON")
OK: dict[str, Any] = {"data": {"ok": True}}


def resilience(**policy: Any) -> Resilience:
    settings: dict[str, Any] = {"breaker_slow": 0, **policy}
    return Resilience(SubgraphPolicies(SubgraphPolicy(**settings)))


async def test_a_retryable_failure_of_a_query_is_tried_again() -> None:
    r = resilience()
    attempts = Attempts(DOWN, OK)
    assert await r.call("s", attempts, 10, None, idempotent=True) == OK
    assert len(attempts.timeouts) == 2 and r.guard("s").retries == 1


async def test_mutations_and_other_failures_are_never_tried_again() -> None:
    r = resilience()
    mutation = Attempts(DOWN, OK)
    assert await r.call("s", mutation, 10, None, idempotent=False) is DOWN
    broken = Attempts(BROKEN, OK)
    assert await r.call("s", broken, 10, None, idempotent=True) is BROKEN
    assert len(mutation.timeouts) == len(broken.timeouts) == 1


async def test_an_open_circuit_fails_at_once_and_says_so() -> None:
    r = resilience(breaker_failures=2, retries=0)
    for _ in range(2):
        await r.call("s", Attempts(DOWN), 10, None, idempotent=True)
    untouched = Attempts(OK)
    failure = await r.call("s", untouched, 10, None, idempotent=True)
    assert isinstance(failure, SubgraphFailure) and failure.code == CIRCUIT_OPEN
    assert not untouched.timeouts
    assert r.guard("s").state() == "circuit_open"
    assert r.guard("s").last_error is not None  # the subgraph's, not the circuit's
    assert r.guard("s").last_error.code == "SUBREQUEST_HTTP_ERROR"


async def test_a_fetch_gets_what_the_request_has_left_and_none_once_it_is_over() -> None:
    r = resilience()
    loop = asyncio.get_running_loop()
    attempts = Attempts(OK)
    await r.call("s", attempts, 10, loop.time() + 2, idempotent=True)
    assert 1.5 < attempts.timeouts[0] <= 2
    late = Attempts(OK)
    failure = await r.call("s", late, 10, loop.time() - 0.1, idempotent=True)
    assert isinstance(failure, SubgraphFailure) and failure.code == TIMEOUT
    assert not late.timeouts
    assert r.guard("s").last_error is None  # no time left is not the subgraph's failure


async def test_no_retry_past_the_deadline() -> None:
    r = resilience()
    loop = asyncio.get_running_loop()
    attempts = Attempts(DOWN, OK, delay=0.05)
    assert await r.call("s", attempts, 10, loop.time() + 0.05, idempotent=True) is DOWN


async def test_calls_over_the_cap_and_its_queue_fail_fast() -> None:
    r = resilience(max_in_flight=1, max_queued=1)
    slow = [Attempts(OK, delay=0.1) for _ in range(3)]
    results = await asyncio.gather(*(r.call("s", a, 10, None, True) for a in slow))
    assert results[:2] == [OK, OK]
    assert isinstance(results[2], SubgraphFailure) and results[2].code == OVERLOADED


async def test_waiting_calls_are_released_when_the_breaker_opens() -> None:
    r = resilience(breaker_failures=2, breaker_slow=0.05, retries=0)
    frozen = [Attempts(OK, delay=30) for _ in range(2)]
    results = await asyncio.wait_for(
        asyncio.gather(*(r.call("s", a, 60, None, True) for a in frozen)), 5
    )
    assert all(isinstance(x, SubgraphFailure) and x.code == CIRCUIT_OPEN for x in results)
    assert r.guard("s").limit.in_flight == 0


def test_the_flags_and_their_env_variables_set_policies_per_subgraph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUGZAK_BREAKER_SLOW", "2, ticketing=5")
    argv = ["serve", "--supergraph", "x", "--breaker-slow", "education=0.5",
            "--subgraph-retries", "0", "--subgraph-retry-budget", "education=20",
            "--subgraph-max-in-flight", "ticketing=8", "--breaker-open", "3"]  # fmt: skip
    policies = _subgraph_policies(build_parser().parse_args(argv))
    assert policies.default == SubgraphPolicy(breaker_slow=2, retries=0, breaker_open=3)
    education = policies.of("education")
    assert (education.breaker_slow, education.retry_budget, education.retries) == (0.5, 0.2, 0)
    ticketing = policies.of("ticketing")
    assert (ticketing.breaker_slow, ticketing.max_in_flight) == (5, 8)
    assert policies.of("other") is policies.default
    for bad in (["--breaker-failures", "x"], ["--subgraph-retry-budget", "150"],
                ["--subgraph-max-in-flight", "0"]):  # fmt: skip
        with pytest.raises(SystemExit):
            _subgraph_policies(build_parser().parse_args(["serve", "--supergraph", "x", *bad]))


async def test_a_caller_that_goes_away_is_not_answered_for_and_frees_its_place() -> None:
    r = resilience()
    task = asyncio.ensure_future(r.call("s", Attempts(OK, delay=30), 60, None, True))
    await asyncio.sleep(0.01)
    assert r.guard("s").limit.in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert r.guard("s").limit.in_flight == 0
    assert r.guard("s").breaker.state is State.CLOSED  # no verdict on the subgraph


async def test_a_call_queued_when_the_breaker_opens_does_not_go_out() -> None:
    r = resilience(max_in_flight=1, breaker_failures=1, retries=0)
    first = asyncio.ensure_future(r.call("s", Attempts(DOWN, delay=0.05), 10, None, True))
    await asyncio.sleep(0)  # the first call has the only place
    queued = Attempts(OK)
    second = await r.call("s", queued, 10, None, True)
    assert (await first) is DOWN
    assert isinstance(second, SubgraphFailure) and second.code == CIRCUIT_OPEN
    assert not queued.timeouts
