"""Issue 14's left-over: while a subgraph's circuit breaker is open every call to it is refused
at once, and each refusal was a log line (about 14,700 lines in 6 minutes of soak). Now the
circuit has an outage log of its own (gateway/outage_log.py): one line when it opens, at most one
reminder per `remind_every` with the count of refused calls, one line when it closes. Each
request still counts the refusal (its own log line's subgraph errors).

In process, through the path every subgraph request takes (SubgraphCalls over Resilience), with
a transport that fails until the test lets it answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import pytest

from gateway.execution.resilience import CIRCUIT_OPEN, Resilience, SubgraphPolicies, SubgraphPolicy
from gateway.execution.subgraph_calls import Call, SubgraphCalls
from gateway.execution.transport import (
    SubgraphFailure,
    SubgraphRequest,
    SubgraphResponse,
    SubgraphTimeouts,
)

SERVICE = "education"
BURST = 2_000  # requests against the open circuit
OPEN_FOR = 0.6  # seconds before a trial call goes through


class Flaky:
    """Refuses connections until `answers` is set."""

    def __init__(self) -> None:
        self.answers = False
        self.sent = 0

    async def send(self, request: SubgraphRequest) -> SubgraphResponse | SubgraphFailure:
        self.sent += 1
        if self.answers:
            return SubgraphResponse({"data": {"__typename": "Query"}})
        return SubgraphFailure("SUBREQUEST_HTTP_ERROR", "connection refused or unreachable")


class NoHeaders:
    def for_subgraph(self, service: str) -> Mapping[str, str]:
        return {}


def call(n: int) -> Call:
    # distinct bodies: identical queries in flight would share one call
    payload = {"query": "{ __typename }", "variables": {"n": n}}
    return Call(SERVICE, "http://education.invalid/graphql", payload, NoHeaders(), None)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name in ("rugzak.resilience", "rugzak.subgraph")
    ]


async def test_an_open_circuit_is_a_few_lines_however_many_calls_it_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    policy = SubgraphPolicy(retries=0, breaker_failures=3, breaker_open=OPEN_FOR)
    resilience = Resilience(SubgraphPolicies(policy))
    transport = Flaky()
    calls = SubgraphCalls(transport, resilience, SubgraphTimeouts(1.0))
    guard = resilience.guard(SERVICE)
    guard.circuit_log.remind_every = 0.2  # 30 s in the gateway; the burst lasts longer than this

    failures = [await calls.make(call(n)) for n in range(3)]  # what opens it: one line each
    assert all(isinstance(f, SubgraphFailure) for f in failures)
    before = len(lines(caplog))
    assert before == 4, lines(caplog)  # 3 failed calls, then "open"
    opened = [line for line in lines(caplog) if line.startswith(f"circuit of subgraph {SERVICE}")]
    assert len(opened) == 1 and opened[0].startswith(
        f"circuit of subgraph {SERVICE} is open: last error SUBREQUEST_HTTP_ERROR: connection"
    ), opened

    started = time.monotonic()
    refused = await asyncio.gather(*(calls.make(call(n)) for n in range(3, 3 + BURST // 2)))
    await asyncio.sleep(0.25)
    refused += await asyncio.gather(
        *(calls.make(call(n)) for n in range(3 + BURST // 2, 3 + BURST))
    )
    burst_seconds = time.monotonic() - started
    assert all(isinstance(r, SubgraphFailure) and r.code == CIRCUIT_OPEN for r in refused)
    assert transport.sent == 3  # none of the burst went out
    during = lines(caplog)[before:]
    # at most one reminder per remind_every, each with the count of refused calls so far
    assert 1 <= len(during) <= 1 + burst_seconds / 0.2, during
    assert all(f"circuit of subgraph {SERVICE} is still open" in line for line in during)
    assert "refused calls" in during[-1]
    assert guard.circuit_log.failures == BURST

    await asyncio.sleep(OPEN_FOR)  # half open: the next call is a trial, and it answers
    transport.answers = True
    assert isinstance(await calls.make(call(-1)), SubgraphResponse)
    closed = lines(caplog)[before + len(during) :]
    assert len(closed) == 1 and closed[0].startswith(
        f"circuit of subgraph {SERVICE} is closed after"
    ), closed
    assert not any(r.exc_info for r in caplog.records)
