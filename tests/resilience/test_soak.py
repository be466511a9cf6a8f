"""A soak of distinct operations: every request a query the gateway has never seen (its own
operation name and alias, arguments that vary), so that every cache keyed by operation keeps
filling. After a warm-up (the bounded caches filling), the gateway's RSS must stay flat.

In `make test` this runs for 15 s and only reports the figures; `make soak` runs it for what
is left of RUGZAK_SOAK_SECONDS after the fault cases (30 minutes in all by default) and
asserts growth under 10% after warm-up."""

from __future__ import annotations

import statistics
import time

import orjson

from tests.resilience.harness import SOAK_SECONDS, STARTED, Report, World
from tests.resilience.load import Load, RssSampler, summary

GROWTH_LIMIT = 0.10
SUBGRAPH_FAILED = {
    "SUBREQUEST_CIRCUIT_OPEN",
    "SUBREQUEST_TIMEOUT",
    "SUBREQUEST_OVERLOADED",
    "SUBREQUEST_HTTP_ERROR",
}


def distinct(n: int) -> bytes:
    """The n-th operation: never the same text twice, and a varying shape."""
    first = n % 23 + 1
    extra = ("status", "kind", "vksLevel", "issueDate { iso }")[n % 4]
    tickets = "tickets { reference status }" if n % 3 else "tickets { category isOpen }"
    query = (
        f"query Soak{n} {{ me {{ insz who{n}: name {{ givenName }} "
        f"qualifications(first: {first}) {{ totalCount edges {{ node {{ title {extra} }} }} }} "
        f"{tickets} }} }}"
    )
    return orjson.dumps({"query": query, "operationName": f"Soak{n}"})


def test_rss_stays_flat_under_distinct_operations(world: World, report: Report) -> None:
    # make soak: what is left of its time; make test: a glance
    left = SOAK_SECONDS - (time.monotonic() - STARTED) - 30
    seconds = max(60.0, left) if SOAK_SECONDS else 15.0
    # the bounded caches fill first (about 3 minutes at this rate): a quarter of the run, and
    # at least 5 minutes of it when it is long enough
    warm_up = max(seconds / 4, min(300.0, seconds / 2))
    with (
        world.gateway() as gateway,
        RssSampler(gateway.proc.pid, every=1.0) as rss,
        Load(gateway.url + "/graphql", distinct, world.callers(), rate=40) as load,
    ):
        started = time.monotonic()
        time.sleep(seconds)
    samples = load.samples
    after = [mb for at, mb in rss.values if at >= started + warm_up]
    warmed = statistics.median(after[:5])
    final = statistics.median(after[-5:])
    growth = (final - warmed) / warmed
    partial = [s for s in samples if isinstance(s.body, dict) and s.body.get("errors")]

    report.add(
        "distinct operations",
        {
            **summary(samples, rss),
            "seconds": round(seconds),
            "partial_answers": len(partial),
            "partial_codes": sorted(set().union(*(s.codes for s in partial))),
            "rss_after_warm_up_mb": round(warmed, 1),
            "rss_final_mb": round(final, 1),
            "rss_growth_pct": round(100 * growth, 1),
            "rss_mb_every_minute": [round(mb, 1) for at, mb in rss.values[::60]],
        },
    )
    lost = [s.error for s in samples if s.lost]
    assert samples and not lost, f"every operation answered: {lost[:3]}"
    answered = [s for s in samples if s.status != 0]
    assert all(s.status == 200 and s.body["data"]["me"]["insz"] for s in answered)
    # on a starved machine a subgraph may turn slow, and its breaker open: a partial answer,
    # never a wrong one
    for sample in partial:
        assert sample.codes <= SUBGRAPH_FAILED, sample.body["errors"][:3]
    if SOAK_SECONDS:
        assert growth < GROWTH_LIMIT, f"RSS grew {100 * growth:.1f}% after warm-up"
