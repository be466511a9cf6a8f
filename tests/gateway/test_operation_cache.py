"""The caches of documents, normalized operations and plans: bounded by entries and by
approximate bytes, keyed so that layouts share a plan and authorisation outcomes do not."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLField, GraphQLNamedType, GraphQLSchema, parse

from auth.principal import ANONYMOUS, Principal
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.lru import LRU, Doorkeeper
from gateway.metrics import Metrics
from gateway.operation import NOperation, normalize, select_operation
from gateway.operation_cache import (
    CacheLimits,
    OperationCaches,
    document_weight,
    normalized,
    operation_weight,
    plan_weight,
)
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.planning import Planner
from gateway.schema.supergraph import Supergraph, load_supergraph

ROOT = Path(__file__).resolve().parents[2]
SG = load_supergraph((ROOT / "schema.graphql").read_text())
PROFILE = (ROOT / "examples" / "profile.graphql").read_text()
SMALL = '{ municipality(nisCode: "44021") { name } }'
ANN = Principal(subject="ann", insz="85671012385", issuer="idp", token="t", acr="substantial")


def test_evicts_the_least_recently_used_beyond_its_entries() -> None:
    lru: LRU[str, int] = LRU(3)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        lru.put(key, value)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("d", 4)
    assert "b" not in lru and len(lru) == 3 and lru.evictions == 1
    assert [lru.get(k) for k in "acd"] == [1, 3, 4]
    assert (lru.hits, lru.misses) == (4, 0)
    assert lru.get("b") is None and lru.misses == 1


def test_evicts_the_least_recently_used_beyond_its_bytes() -> None:
    lru: LRU[str, str] = LRU(100, max_bytes=10, weigh=lambda _, v: len(v))
    lru.put("a", "aaaa")
    lru.put("b", "bbbb")
    assert lru.bytes == 8
    lru.get("a")
    lru.put("c", "cccc")  # 12 bytes: b, the least recently used, goes
    assert "b" not in lru and lru.bytes == 8 and lru.evictions == 1
    lru.put("a", "a" * 6)  # replacing counts the new size only
    assert lru.bytes == 10 and len(lru) == 2
    lru.put("a", "a" * 8)
    assert "c" not in lru and lru.bytes == 8 and len(lru) == 1
    lru.put("huge", "x" * 11)  # larger than the whole cache: not kept, nothing evicted for it
    assert "huge" not in lru and "a" in lru and lru.bytes == 8


def test_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError):
        LRU(0)
    with pytest.raises(ValueError):
        LRU(10, max_bytes=100)  # a size bound without a way to weigh entries


def _deep_size(obj: Any, seen: set[int]) -> int:
    """Bytes of `obj` and everything it references, except schema objects and what `seen` has."""
    shared = (GraphQLSchema, GraphQLNamedType, GraphQLField, Supergraph)
    total, stack = 0, [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (*shared, type)):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple | set | frozenset):
            stack += list(item)
        else:
            stack += list(_attributes(item))
    return total


def _attributes(item: Any) -> Iterator[Any]:
    for cls in type(item).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if hasattr(item, name):
                yield getattr(item, name)
    if hasattr(item, "__dict__"):
        yield item.__dict__


@pytest.mark.parametrize("query", [PROFILE, SMALL], ids=["profile", "small"])
def test_size_estimates_are_within_a_factor_of_two(query: str) -> None:
    document = parse(query)
    seen: set[int] = set()
    document_bytes = _deep_size(document, seen)
    found = normalized(normalize(SG.api_schema, document, select_operation(document, None), {}))
    operation_bytes = _deep_size(found.operation, seen)  # its AST nodes were counted above
    plan = Planner(SG).plan(found.operation)
    plan_bytes = _deep_size(plan, set())
    for estimate, measured in (
        (document_weight(query), document_bytes),
        (operation_weight(found.fields), operation_bytes),
        (plan_weight(plan), plan_bytes),
    ):
        assert measured / 2 <= estimate <= measured * 2, (estimate, measured)


# the caches' bookkeeping, told without the doorkeeper's (kept on first sight)
FIRST_SIGHT = CacheLimits(second_sight=False)


def handler(limits: CacheLimits | None = None) -> RequestHandler:
    return RequestHandler(SG, Executor(SubgraphClient(), {}), caches=OperationCaches(limits))


def test_layouts_of_one_operation_share_a_plan() -> None:
    h = handler(FIRST_SIGHT)
    texts = [
        "{ municipality(nisCode: $n) { name } }".replace("$n", '"44021"'),
        '{\n  municipality(nisCode: "44021") {\n    ...M\n  }\n}\nfragment M on Municipality '
        "{ name }",
        'query { municipality(nisCode: "44021") { ... on Municipality { name } } }',
    ]
    for text in texts:
        prepared = h.prepare(RequestContext(text))
        assert isinstance(prepared, RequestContext)
    assert len(h.caches.documents) == 3 and len(h.caches.operations) == 3
    assert len(h.caches.plans) == 1
    assert (h.caches.plans.misses, h.caches.plans.hits) == (1, 2)
    # another argument is another operation
    h.prepare(RequestContext('{ municipality(nisCode: "11002") { name } }'))
    assert len(h.caches.plans) == 2


def test_plans_are_kept_per_authorisation_outcome() -> None:
    h = handler(FIRST_SIGHT)
    query = '{ me { name { givenName } } municipality(nisCode: "44021") { name } }'
    ann = h.prepare(RequestContext(query, principal=ANN))
    anonymous = h.prepare(RequestContext(query, principal=ANONYMOUS))
    assert isinstance(ann, RequestContext) and isinstance(anonymous, RequestContext)
    assert len(h.caches.plans) == 2
    # the anonymous caller may not read `me`: no subgraph is asked for it
    assert any("me{" in f.document for f in ann.plan.fetches)
    assert not any("me{" in f.document for f in anonymous.plan.fetches)
    again = h.prepare(RequestContext(query, principal=ANN))
    assert isinstance(again, RequestContext) and again.plan is ann.plan


def test_an_operation_is_kept_on_its_second_sight() -> None:
    h = handler()
    h.prepare(RequestContext(SMALL))
    assert all(len(lru) == 0 for name, lru in h.caches.by_name() if name != "answered")
    assert h.caches.documents.declined == h.caches.plans.declined == 1
    h.prepare(RequestContext(SMALL))
    assert len(h.caches.documents) == len(h.caches.operations) == len(h.caches.plans) == 1
    h.prepare(RequestContext(SMALL))
    assert (h.caches.documents.hits, h.caches.plans.hits) == (1, 1)


def test_operations_sent_once_do_not_push_out_used_ones() -> None:
    h = handler(CacheLimits(entries=5))
    for _ in range(2):
        h.prepare(RequestContext(SMALL))
    for i in range(200):  # an attacker's stream of operations never seen before
        h.prepare(RequestContext(f'{{ m{i}: municipality(nisCode: "{i}") {{ name }} }}'))
    assert (SG.schema_hash, SMALL) in h.caches.documents
    assert h.caches.documents.evictions == h.caches.plans.evictions == 0
    assert len(h.caches.documents) == 1


def test_operations_sent_once_are_not_kept_by_anything() -> None:
    h = handler()

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, NOperation) for o in gc.get_objects())

    before = alive()
    for i in range(30):
        query = f'{{ me {{ name {{ givenName }} }} m{i}: municipality(nisCode: "{i}") {{ name }} }}'
        prepared = h.prepare(RequestContext(query, principal=ANN))
        assert isinstance(prepared, RequestContext) and prepared.plan is not None
    del prepared
    assert alive() == before


def test_the_doorkeeper_forgets_the_oldest_beyond_twice_its_capacity() -> None:
    door = Doorkeeper(capacity=3)
    assert [door.seen(k) for k in "abc"] == [False] * 3
    assert door.seen("a")  # remembered
    assert [door.seen(k) for k in "def"] == [False] * 3  # a, b, c move to the older set
    assert door.seen("b") and door.seen("f")
    assert [door.seen(k) for k in "ghi"] == [False] * 3  # d, e, f older; a, b, c forgotten
    assert door.seen("e") and not door.seen("a")


def test_documents_are_evicted_by_count() -> None:
    h = handler(CacheLimits(entries=2, second_sight=False))
    for nis in ("44021", "11002", "24062"):
        h.prepare(RequestContext(f'{{ municipality(nisCode: "{nis}") {{ name }} }}'))
    assert len(h.caches.documents) == 2 and h.caches.documents.evictions == 1
    assert len(h.caches.plans) == 2


def test_documents_are_evicted_by_size() -> None:
    # room for two small documents, not three; the profile is larger than the whole cache
    limit = 2 * document_weight(SMALL) + 100
    h = handler(CacheLimits(entries=1000, bytes=limit, second_sight=False))
    for nis in ("44021", "11002", "24062"):
        h.prepare(RequestContext(SMALL.replace("44021", nis)))
    assert len(h.caches.documents) == 2 and h.caches.documents.bytes <= limit
    h.prepare(RequestContext(PROFILE, principal=ANN))
    assert len(h.caches.documents) == 2 and h.caches.documents.evictions == 1
    assert all(lru.bytes <= limit for _, lru in h.caches.by_name())


def test_metrics_report_each_cache() -> None:
    h = handler(FIRST_SIGHT)
    metrics = Metrics()
    metrics.watch_operation_caches(h.caches.by_name)
    h.prepare(RequestContext(SMALL))
    h.prepare(RequestContext(SMALL))
    text = metrics.render().decode()
    assert 'rugzak_operation_cache_hits_total{cache="plan"} 1.0' in text
    assert 'rugzak_operation_cache_misses_total{cache="document"} 1.0' in text
    assert 'rugzak_operation_cache_entries{cache="operation"} 1.0' in text
    assert 'rugzak_operation_cache_declined_total{cache="plan"} 0.0' in text
    assert f'rugzak_operation_cache_bytes{{cache="document"}} {document_weight(SMALL)}.0' in text
