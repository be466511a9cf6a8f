"""Entity cache rules that need no servers: Cache-Control, what is private, keys, invalidation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from auth.principal import ANONYMOUS, Principal
from gateway.cache.entities import (
    CacheControl,
    EntityCache,
    guarded_types,
    invalidation_tags,
    parse_cache_control,
)
from gateway.cache.store import cache_store
from gateway.execution.credentials import StaticHeaders
from gateway.execution.resilience import Resilience
from gateway.execution.subgraph_calls import Call, SubgraphCalls
from gateway.execution.transport import (
    SubgraphFailure,
    SubgraphRequest,
    SubgraphResponse,
    SubgraphTimeouts,
)
from gateway.schema.supergraph import load_supergraph

SG = load_supergraph((Path(__file__).resolve().parents[2] / "schema.graphql").read_text())
ANN = Principal(subject="ann", insz="85671012385", issuer="idp", token="a")
BRAM = Principal(subject="bram", insz="03621445638", issuer="idp", token="b")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("max-age=60", CacheControl(60, False, False)),
        ("private, max-age=30", CacheControl(30, True, False)),
        ("public, max-age=60, s-maxage=10", CacheControl(10, False, False)),
        ("no-store", CacheControl(None, False, True)),
        ("max-age=soon", CacheControl(None, False, False)),
    ],
)
def test_cache_control(header: str | None, expected: CacheControl | None) -> None:
    assert parse_cache_control(header) == expected


def test_types_leading_to_authorised_fields_are_private() -> None:
    guarded = guarded_types(SG)
    # a ticket's details are its reporter's personal data
    assert {"Citizen", "Query", "ChildBenefitEntitlement", "Ticket"} <= guarded
    assert not {"Municipality", "Institution"} & guarded


@pytest.mark.parametrize(
    "payload",
    [[], {"tags": "Ticket:1"}, {"tags": ["no-colon"]}, {"entities": [{"id": "1"}]},
     {"other": 1}, {}],
)  # fmt: skip
def test_bad_invalidation_requests(payload: Any) -> None:
    with pytest.raises(ValueError):
        invalidation_tags(payload)


def test_invalidation_tags() -> None:
    payload = {"tags": ["Citizen:85671012385"], "entities": [{"__typename": "Ticket", "id": "7"}]}
    assert invalidation_tags(payload) == ["Citizen:85671012385", "Ticket:7"]


async def test_private_entries_are_keyed_by_principal_and_no_store_is_never_kept() -> None:
    cache = EntityCache(cache_store(None), SG)
    rep = [{"__typename": "Citizen", "insz": "85671012385"}]
    args = ("allowances", "...on Citizen{childBenefits{id}}", {}, rep)
    found = await cache.lookup(*args, ANN)
    await cache.save(found, {0: {"childBenefits": []}}, CacheControl(60))
    assert (await cache.lookup(*args, ANN)).answers == [{"childBenefits": []}]
    assert (await cache.lookup(*args, BRAM)).answers == [None]
    assert (await cache.lookup(*args, ANONYMOUS)).answers == [None]
    anonymous = await cache.lookup(*args, ANONYMOUS)  # private data of nobody: not kept
    await cache.save(anonymous, {0: {"childBenefits": []}}, CacheControl(60))
    assert (await cache.lookup(*args, ANONYMOUS)).answers == [None]
    bram = await cache.lookup(*args, BRAM)
    await cache.save(bram, {0: {"childBenefits": []}}, CacheControl(60, no_store=True))
    assert (await cache.lookup(*args, BRAM)).answers == [None]
    assert await cache.invalidate(["Citizen:85671012385"]) == 1
    assert (await cache.lookup(*args, ANN)).answers == [None]


async def test_an_answer_fetched_across_an_invalidation_is_not_stored() -> None:
    """Fetched before the change, saved after the invalidation: it may miss the change."""
    cache = EntityCache(cache_store(None), SG)
    args = ("ticketing", "{tickets{status}}", {}, ["tickets"])
    before = await cache.lookup_root(*args, ANN)
    assert before is not None
    assert await cache.invalidate(["Ticket:7"]) == 1  # arrives while the fetch is under way
    await cache.save(before, {0: {"tickets": [{"status": "NEW"}]}}, CacheControl(60), ["Ticket:7"])
    after = await cache.lookup_root(*args, ANN)
    assert after is not None and after.answers == [None]
    await cache.save(after, {0: {"tickets": [{"status": "DONE"}]}}, CacheControl(60), ["Ticket:7"])
    fresh = await cache.lookup_root(*args, ANN)
    assert fresh is not None and fresh.answers == [{"tickets": [{"status": "DONE"}]}]


class _SlowTransport:
    def __init__(self) -> None:
        self.calls = 0

    async def send(self, request: SubgraphRequest) -> SubgraphResponse | SubgraphFailure:
        self.calls += 1
        await asyncio.sleep(0.05)
        return SubgraphResponse({"data": {"n": self.calls}})


async def test_identical_queries_in_flight_share_one_request_but_not_the_result_object() -> None:
    transport = _SlowTransport()
    calls = SubgraphCalls(transport, Resilience(), SubgraphTimeouts())
    payload = {"query": "{ n }"}
    same = StaticHeaders({"authorization": "Bearer a"})
    query = Call("s", "u", payload, same, None)
    results = await asyncio.gather(*(calls.make(query) for _ in range(5)))
    assert transport.calls == 1
    assert all(r == SubgraphResponse({"data": {"n": 1}}) for r in results)
    # each request merges into its own copy
    assert len({id(r.body) for r in results if isinstance(r, SubgraphResponse)}) == 5
    other = StaticHeaders({"authorization": "Bearer b"})
    await asyncio.gather(calls.make(query), calls.make(Call("s", "u", payload, other, None)))
    assert transport.calls == 3  # another caller's identical query is not shared
    mutation = Call("s", "u", payload, same, None, shareable=False)
    await asyncio.gather(*(calls.make(mutation) for _ in range(2)))
    assert transport.calls == 5  # mutations never are
