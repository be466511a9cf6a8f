"""How the gateway calls one subgraph when parts fail: every subgraph request goes through
`Resilience.call`, which applies, in this order,

1. the request's deadline: a fetch never waits longer than what the whole request has left;
2. the subgraph's circuit breaker (breaker.py): while open, the call fails at once with
   SUBREQUEST_CIRCUIT_OPEN;
3. its cap on requests in flight (in_flight.py): over the cap and its queue, SUBREQUEST_OVERLOADED;
4. retries of failed queries (never mutations) with jittered backoff, within a retry budget
   (retry.py), and only while the deadline leaves room.

Each subgraph has its own guard (breaker, cap, budget, last error), kept for the life of the
gateway: across supergraph swaps, and read by /ready and /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from gateway.execution.breaker import BreakerSettings, Call, CircuitBreaker, State
from gateway.execution.in_flight import InFlightLimit, QueueFull
from gateway.execution.retry import RetryBudget, backoff
from gateway.execution.transport import SubgraphFailure
from gateway.metrics import Metrics
from gateway.outage_log import OutageLog

log = logging.getLogger("rugzak.resilience")

CIRCUIT_OPEN = "SUBREQUEST_CIRCUIT_OPEN"
OVERLOADED = "SUBREQUEST_OVERLOADED"
TIMEOUT = "SUBREQUEST_TIMEOUT"
# a fetch that never started: the request had no time left for it (not the subgraph's failure)
DEADLINE_PASSED = "the request's deadline passed before this fetch"

R = TypeVar("R")
# one attempt: given the seconds it may take, the subgraph's answer or why there is none
Attempt = Callable[[float], Awaitable[R | SubgraphFailure]]


@dataclass(frozen=True, slots=True)
class SubgraphPolicy:
    """The resilience settings of one subgraph (the `rugzak serve` flags of the same names)."""

    max_in_flight: int = 100
    max_queued: int = 400
    retries: int = 1  # retries of a failed query after its first attempt
    retry_budget: float = 0.1  # retries at most this share of requests (over 10 s)
    breaker_failures: int = 5
    breaker_error_rate: float = 0.5
    breaker_slow: float = 2.0
    breaker_open: float = 5.0

    def breaker(self) -> BreakerSettings:
        return BreakerSettings(
            failures=self.breaker_failures,
            error_rate=self.breaker_error_rate,
            slow=self.breaker_slow,
            open_for=self.breaker_open,
        )


@dataclass(frozen=True, slots=True)
class SubgraphPolicies:
    default: SubgraphPolicy = field(default_factory=SubgraphPolicy)
    by_name: Mapping[str, SubgraphPolicy] = field(default_factory=dict)

    def of(self, name: str) -> SubgraphPolicy:
        return self.by_name.get(name, self.default)

    @classmethod
    def build(
        cls, defaults: Mapping[str, Any], per_subgraph: Mapping[str, Mapping[str, Any]]
    ) -> SubgraphPolicies:
        """From settings by field name: `defaults` for every subgraph, `per_subgraph` on top."""
        default = replace(SubgraphPolicy(), **defaults)
        return cls(default, {name: replace(default, **v) for name, v in per_subgraph.items()})


@dataclass(slots=True)
class LastError:
    code: str
    reason: str
    at: float  # time.time()


@dataclass(slots=True)
class Probe:
    """What the last active check of a subgraph found (gateway/readiness.py)."""

    outcome: str  # "up": it answers; "down": unreachable or no answer in time; "error": it
    # answers, but not with GraphQL
    reason: str
    at: float  # time.time()
    seconds: float


class SubgraphGuard:
    """What the gateway knows and limits about calls to one subgraph."""

    def __init__(self, name: str, policy: SubgraphPolicy, metrics: Metrics | None) -> None:
        self.name = name
        self.policy = policy
        self.metrics = metrics
        self.breaker = CircuitBreaker(policy.breaker(), on_change=self._changed)
        self.limit = InFlightLimit(policy.max_in_flight, policy.max_queued)
        self.budget = RetryBudget(policy.retry_budget)
        self.last_error: LastError | None = None
        self.last_probe: Probe | None = None
        self.retries = 0
        # while open, every call is refused at once: one line when it opens, a reminder with
        # the count of refused calls at most every 30 s, one line when it closes (not a line
        # per request: thousands a minute under load)
        self.circuit_log = OutageLog(
            log,
            f"circuit of subgraph {name}",
            meanwhile="its fields fail at once (SUBREQUEST_CIRCUIT_OPEN) until a trial answers",
            states=("open", "closed"),
            calls="refused calls",
        )

    def failed(self, failure: SubgraphFailure) -> None:
        self.last_error = LastError(failure.code, failure.reason, time.time())

    def refused(self, failure: SubgraphFailure) -> None:
        """A call the open circuit refused: counted for the circuit's log, not logged itself."""
        self.circuit_log.failed(failure.reason)

    def probed(self, probe: Probe) -> None:
        self.last_probe = probe
        if probe.outcome == "down":  # like a failed call: helps open it when traffic is low
            self.breaker.probe(False)

    def state(self) -> str:
        """up, degraded (failures lately, or it answers checks with something not GraphQL),
        down (its last check got no answer), or circuit_open (open or half open)."""
        if self.breaker.state is not State.CLOSED:
            return "circuit_open"
        probe = self.last_probe
        if probe is not None and probe.outcome == "down":
            return "down"
        recent = time.time() - self.breaker.settings.window
        if (probe is not None and probe.outcome == "error") or (
            self.last_error is not None and self.last_error.at >= recent
        ):
            return "degraded"
        return "up"

    # -- what /metrics reads (gateway.metrics.SubgraphView) ------------------------------------

    def breaker_state(self) -> int:
        return {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}[self.breaker.state]

    def in_flight(self) -> tuple[int, int]:
        return self.limit.in_flight, self.limit.waiting

    def probed_up(self) -> bool | None:
        return None if self.last_probe is None else self.last_probe.outcome != "down"

    def _changed(self, before: State, state: State) -> None:
        if state is State.OPEN:
            if self.metrics is not None:
                self.metrics.breaker_opened.labels(subgraph=self.name).inc()
            if before is State.CLOSED:  # not again at every failed trial
                error = self.last_error
                why = f"last error {error.code}: {error.reason}" if error else "recent failures"
                self.circuit_log.went_down(why)
        elif state is State.CLOSED:
            self.circuit_log.answered()


class Resilience:
    def __init__(
        self,
        policies: SubgraphPolicies | None = None,
        metrics: Metrics | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        self.policies = policies or SubgraphPolicies()
        self.metrics = metrics
        self.request_timeout = request_timeout
        self.guards: dict[str, SubgraphGuard] = {}

    def guard(self, name: str) -> SubgraphGuard:
        guard = self.guards.get(name)
        if guard is None:
            guard = self.guards[name] = SubgraphGuard(name, self.policies.of(name), self.metrics)
        return guard

    def deadline(self) -> float:
        """The deadline (event loop time) of a request that starts now."""
        return asyncio.get_running_loop().time() + self.request_timeout

    async def call(
        self,
        service: str,
        attempt: Attempt[R],
        timeout: float,
        deadline: float | None,
        idempotent: bool,
    ) -> R | SubgraphFailure:
        """One subgraph request: `attempt` sends it once, in at most the seconds it is given.
        `timeout`: the subgraph's own; `deadline`: the request's (loop time), or None."""
        guard = self.guard(service)
        result = await self._call(guard, attempt, timeout, deadline, idempotent)
        if isinstance(result, SubgraphFailure):
            if result.code == CIRCUIT_OPEN:
                guard.refused(result)
            elif result.reason != DEADLINE_PASSED:
                guard.failed(result)
            if self.metrics is not None:
                self.metrics.subgraph_failures.labels(subgraph=service, code=result.code).inc()
        return result

    async def _call(
        self,
        guard: SubgraphGuard,
        attempt: Attempt[R],
        timeout: float,
        deadline: float | None,
        idempotent: bool,
    ) -> R | SubgraphFailure:
        loop = asyncio.get_running_loop()
        tries = 0
        while True:
            now = loop.time()
            left = timeout if deadline is None else min(timeout, deadline - now)
            if left <= 0:
                return SubgraphFailure(TIMEOUT, DEADLINE_PASSED)
            call = guard.breaker.admit()
            if call is None:
                wait = guard.breaker.retry_in()
                return SubgraphFailure(
                    CIRCUIT_OPEN,
                    f"circuit open after recent failures; next trial in {wait:.1f}s",
                )
            result = await self._attempt(guard, call, attempt, now + left, loop)
            if tries == 0:
                guard.budget.request()
            if not isinstance(result, SubgraphFailure) or not result.retryable or not idempotent:
                return result
            tries += 1
            if tries > guard.policy.retries:
                return result
            pause = backoff(tries)
            if deadline is not None and loop.time() + pause >= deadline:
                return result
            if guard.breaker.state is State.OPEN or not guard.budget.try_retry():
                return result
            guard.retries += 1
            if self.metrics is not None:
                self.metrics.subgraph_retries.labels(subgraph=guard.name).inc()
            await asyncio.sleep(pause)

    async def _attempt(
        self,
        guard: SubgraphGuard,
        call: Call,
        attempt: Attempt[R],
        until: float,
        loop: asyncio.AbstractEventLoop,
    ) -> R | SubgraphFailure:
        """One attempt that the breaker admitted: a place under the cap, then the request,
        released at once if the breaker opens meanwhile."""
        try:
            await guard.limit.acquire(until - loop.time())
        except QueueFull:
            guard.breaker.done(call, None)
            limit = guard.limit.limit
            return SubgraphFailure(OVERLOADED, f"{limit} requests in flight and the queue is full")
        except TimeoutError:
            guard.breaker.done(call, None)
            return SubgraphFailure(TIMEOUT, "no free place under the in-flight cap in time")
        if guard.breaker.state is State.OPEN:  # it opened while this call waited for a place
            guard.limit.release()
            guard.breaker.done(call, None)
            return SubgraphFailure(CIRCUIT_OPEN, "circuit opened while waiting for a place")
        ok: bool | None = None
        task = asyncio.current_task()
        assert task is not None
        released = False

        def release() -> None:  # the breaker opened: stop waiting (as asyncio.timeout does)
            nonlocal released
            released = True
            task.cancel()

        try:
            call.release = release
            if self.metrics is not None:
                self.metrics.subgraph_requests.labels(subgraph=guard.name).inc()
            result = await attempt(max(0.0, until - loop.time()))
            ok = not isinstance(result, SubgraphFailure)
            return result
        except asyncio.CancelledError:
            if not released or task.uncancel() > 0:
                raise  # cancelled from outside too (the client went away): let it end
            wait = guard.breaker.retry_in()
            return SubgraphFailure(
                CIRCUIT_OPEN, f"circuit opened while waiting; next trial in {wait:.1f}s"
            )
        finally:
            call.release = None
            guard.limit.release()
            guard.breaker.done(call, ok)
