"""The composition worker: a real process per candidate; the SDL size is checked before one is
started; what it answers (composed, refused) comes back whole."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.composition import SubgraphSource
from gateway.registry.candidate import Candidate, Evaluation, Refused
from gateway.registry.limits import SdlTooLarge
from gateway.registry.worker import CompositionWorker, WorkerLimits

FIXTURES = Path(__file__).parent / "fixtures"
BASE = SubgraphSource("base", "http://127.0.0.1:1/base", (FIXTURES / "base.graphql").read_text())


def source(name: str) -> SubgraphSource:
    return SubgraphSource(
        name, f"http://127.0.0.1:1/{name}", (FIXTURES / f"{name}.graphql").read_text()
    )


async def test_a_candidate_is_judged_in_the_worker() -> None:
    worker = CompositionWorker()
    live = await worker.evaluate(Candidate((BASE,)))
    assert isinstance(live, Evaluation)
    judged = await worker.evaluate(
        Candidate(
            (BASE, source("parking_v1")),
            "parking",
            {"base": "operator", "parking": "44021"},
            live.supergraph,
        )
    )
    assert isinstance(judged, Evaluation)
    assert "parkingZones" in judged.supergraph and judged.breaking == ()
    refused = await worker.evaluate(Candidate((BASE, source("conflict")), "conflict"))
    assert isinstance(refused, Refused) and refused.errors


async def test_an_sdl_over_the_limit_is_refused_before_any_work() -> None:
    worker = CompositionWorker(WorkerLimits(max_sdl_bytes=1_000_000))
    big = SubgraphSource(
        "big", "http://127.0.0.1:1/big", "type Query { a: Int }\n" + "#" * 5_000_000
    )
    started = time.process_time()
    with pytest.raises(SdlTooLarge, match="1,000,000 bytes"):
        await worker.evaluate(Candidate((BASE, big), "big"))
    assert time.process_time() - started < 1  # nothing parsed: no 5 MB document was built
    # characters that take several bytes count as bytes
    wide = SubgraphSource(
        "wide", "http://127.0.0.1:1/wide", '"' + "é" * 600_000 + '"\ntype Query { a: Int }'
    )
    with pytest.raises(SdlTooLarge):
        await worker.evaluate(Candidate((BASE, wide), "wide"))
