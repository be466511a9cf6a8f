"""Every store the gateway keeps holds a bounded number of bytes (issue 14, point 5): the
in-memory cache backend, the persisted queries (in total, per client, over time, and in a shared
store), and the caches of documents, operations and plans under a stream of distinct
operations. These check the bounds, not timing."""

from __future__ import annotations

import hashlib

import pytest

from auth.principal import ANONYMOUS, Principal
from gateway.cache.entities import EntityCache
from gateway.cache.memory import BoundedMemoryCache
from gateway.cache.store import CacheStore
from gateway.errors import RequestError
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.lru import LRU
from gateway.operation_cache import CacheLimits, OperationCaches
from gateway.persisted_queries import PersistedLimits, PersistedQueries, text_bytes
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.pipeline.introspection import introspection_weight
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import SUPERGRAPH

SG = load_supergraph(SUPERGRAPH.read_text())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_memory_backend_stays_within_its_bytes_and_entries() -> None:
    cache = BoundedMemoryCache(max_bytes=50_000, max_entries=100)
    for i in range(2_000):
        await cache.multi_set([(f"key-{i}", "v" * (i % 700))], ttl=60)
        assert cache.bytes <= 50_000 and len(cache) <= 100
    assert cache.evictions > 1_000
    # the most recent entries are there, the oldest gone
    assert await cache.get("key-1999") == "v" * (1999 % 700)
    assert await cache.get("key-0") is None
    # larger than the whole cache: not kept, nothing evicted for it
    before = len(cache)
    await cache.multi_set([("huge", "x" * 60_000)])
    assert await cache.get("huge") is None and len(cache) == before


async def test_the_memory_backend_expires_entries_and_counters() -> None:
    clock = Clock()
    cache = BoundedMemoryCache(clock=clock)
    await cache.multi_set([("a", "1")], ttl=10)
    assert await cache.increment("n", 5) == 5
    await cache.expire("n", 10)
    clock.now += 9
    assert await cache.multi_get(["a", "n"]) == ["1", 5]
    clock.now += 2
    assert await cache.multi_get(["a", "n"]) == [None, None]
    assert cache.bytes == 0


async def test_too_many_counters_drop_the_oldest_half_and_all_data() -> None:
    cache = BoundedMemoryCache(max_counters=10)
    await cache.multi_set([("entry", "cached answer")])
    for i in range(10):
        await cache.increment(f"version-{i}")
    await cache.increment("sequence")  # the 11th: over the bound
    assert await cache.get("sequence") == 1  # the newest stays
    assert await cache.get("version-0") is None
    assert await cache.get("version-9") == 1
    # data stored under an older version can never be served again
    assert await cache.get("entry") is None and cache.bytes == 0


async def test_invalidation_versions_survive_any_amount_of_data() -> None:
    store = CacheStore(BoundedMemoryCache(max_bytes=20_000), "memory")
    entities = EntityCache(store, SG)
    await entities.invalidate(["Ticket:7"])
    for i in range(500):  # far more entity data than fits
        await store.set_many([(f"rugzak:e:{i}", "x" * 200)], ttl=60)
    assert await store.get("rugzak:v:Ticket:7") == "1"


def registrar(limits: PersistedLimits, store: CacheStore | None = None) -> PersistedQueries:
    return PersistedQueries(store, limits, clock=Clock())


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def register(pq: PersistedQueries, text: str, who: Principal = ANONYMOUS) -> bool:
    resolved = await pq.resolve(
        text, {"persistedQuery": {"version": 1, "sha256Hash": digest(text)}}
    )
    assert resolved.register == digest(text)
    return await pq.register(resolved.register, text, who)


def query(i: int) -> str:
    return f"{{ a{i}: __typename }}"


async def test_persisted_queries_are_bounded_per_client_and_in_total() -> None:
    size = text_bytes(query(100))
    pq = registrar(PersistedLimits(max_entries=8, max_bytes=100 * size, client_entries=3))
    assert [await register(pq, query(i)) for i in range(5)] == [True] * 3 + [False] * 2
    ann = Principal(subject="ann", insz="85671012385", client_id="citizen-portal")
    assert all([await register(pq, query(10 + i), ann) for i in range(3)])
    assert not await register(pq, query(20), ann)
    assert len(pq.entries) == 6
    # a client over its quota is still answered: the query is just not stored
    resolved = await pq.resolve(query(4), None)
    assert resolved.query == query(4) and resolved.register is None
    # in total: at most 8 entries, the least recently used go first
    bob = Principal(subject="bob", client_id="staff-app")
    for i in range(3):
        await register(pq, query(30 + i), bob)
    assert len(pq.entries) == 8 and pq.accounts["anonymous"].entries == 2


async def test_persisted_queries_are_bounded_in_bytes_and_expire() -> None:
    big = "{ __typename }\n#" + "x" * 10_000
    bound = 3 * text_bytes(big + "0")
    pq = registrar(PersistedLimits(max_bytes=bound, client_bytes=10**9))
    for i in range(10):
        await register(pq, big + str(i))
        assert pq.bytes <= bound
    assert len(pq.entries) == 3
    clock = pq._clock
    assert isinstance(clock, Clock)
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": digest(big + "9")}}
    assert (await pq.resolve(None, hashed)).query == big + "9"
    clock.now += pq.limits.ttl + 1
    with pytest.raises(RequestError) as expired:  # the client sends the text again
        await pq.resolve(None, hashed)
    assert expired.value.code == "PERSISTED_QUERY_NOT_FOUND"
    assert pq.accounts["anonymous"].entries == 2  # the expired one no longer counts


async def test_a_shared_store_counts_registrations_per_window_for_all_replicas() -> None:
    shared = CacheStore(BoundedMemoryCache(), "memory")  # what Redis holds for all replicas
    limits = PersistedLimits(max_entries=10, client_entries=4)
    first, second = registrar(limits, shared), registrar(limits, shared)
    # half the bounds per window: 2 per client between both replicas
    assert await register(first, query(1)) and await register(second, query(2))
    assert not await register(first, query(3))
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": digest(query(1))}}
    assert (await second.resolve(None, hashed)).query == query(1)
    ann = Principal(subject="ann", client_id="citizen-portal")
    assert await register(first, query(4), ann)


def test_operation_caches_stay_within_their_bytes_under_distinct_operations() -> None:
    limits = CacheLimits(entries=10_000, bytes=300_000)
    handler = RequestHandler(SG, Executor(SubgraphClient(), {}), caches=OperationCaches(limits))
    for i in range(400):
        query = f'{{ m{i}: municipality(nisCode: "{i}") {{ name nisCode }} }}'
        for _ in range(2):  # kept on second sight
            handler.prepare(RequestContext(query))
        assert all(lru.bytes <= limits.bytes for _, lru in handler.caches.by_name())
    assert handler.caches.documents.evictions > 0


async def test_introspection_answers_are_kept_within_their_bound() -> None:
    client = SubgraphClient()
    try:
        handler = RequestHandler(SG, Executor(client, {}))
        handler.introspection.answers = LRU(1_000, 20_000, introspection_weight)
        query = '{ __type(name: "Municipality") { name fields { name } } }'
        first = await handler.handle(RequestContext(query))
        assert first.body == (await handler.handle(RequestContext(query))).body
        assert handler.introspection.answers.hits == 1
        assert first.body["data"]["__type"]["fields"][0] == {"name": "nisCode"}
        for i in range(100):  # distinct texts: the oldest answers make way
            await handler.handle(RequestContext(f'{{ __type(name: "Query") {{ a{i}: name }} }}'))
            assert handler.introspection.answers.bytes <= 20_000
        assert handler.introspection.answers.evictions > 0
    finally:
        await client.aclose()
