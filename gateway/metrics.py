"""Prometheus metrics of one gateway (`GET /metrics`), in a registry of its own so that several
gateways in one process (tests) do not share counters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.lru import LRU

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "rugzak_requests", "GraphQL requests answered, by HTTP status", ["status"], registry=r
        )
        self.request_seconds = Histogram(
            "rugzak_request_duration_seconds", "Time to answer a GraphQL request", registry=r
        )
        self.subgraph_requests = Counter(
            "rugzak_subgraph_requests", "Requests sent to subgraphs", ["subgraph"], registry=r
        )
        self.subgraph_failures = Counter(
            "rugzak_subgraph_failures",
            "Subgraph requests that failed (HTTP error, timeout, refused)",
            ["subgraph", "code"],
            registry=r,
        )
        self.subgraph_retries = Counter(
            "rugzak_subgraph_retries",
            "Subgraph queries sent again after a failure (within the retry budget)",
            ["subgraph"],
            registry=r,
        )
        self.breaker_opened = Counter(
            "rugzak_subgraph_breaker_opened",
            "Times a subgraph's circuit breaker opened",
            ["subgraph"],
            registry=r,
        )
        self.persisted_queries = Counter(
            "rugzak_persisted_queries",
            "Automatic persisted query lookups, by outcome",
            ["outcome"],
            registry=r,
        )
        # entity cache lookups per subgraph and type; root query answers count as type "Query"
        self.entity_cache_hits = Counter(
            "rugzak_entity_cache_hits",
            "Entities (and root query answers, type Query) served from the cache",
            ["subgraph", "type"],
            registry=r,
        )
        self.entity_cache_misses = Counter(
            "rugzak_entity_cache_misses",
            "Entities (and root query answers, type Query) the cache did not have",
            ["subgraph", "type"],
            registry=r,
        )
        self.invalidations = Counter(
            "rugzak_entity_cache_invalidations",
            "Entity cache invalidations, by the type of the tag (Ticket for Ticket:7)",
            ["type"],
            registry=r,
        )
        self.schema_reloads = Counter(
            "rugzak_schema_reloads",
            "New supergraphs offered: ok (now served) or refused (the last good one serves on)",
            ["outcome"],
            registry=r,
        )
        self.abandoned = Counter(
            "rugzak_requests_abandoned",
            "Requests whose client went away before the answer (their work is cancelled)",
            registry=r,
        )
        self.cache_errors = Gauge(
            "rugzak_cache_errors", "Failures of the cache backend since start", registry=r
        )
        self.cache_up = Gauge(
            "rugzak_cache_up", "1 while the cache backend answers, 0 after a failure", registry=r
        )

    def watch_operation_caches(
        self, caches: Callable[[], Iterable[tuple[str, LRU[Any, Any]]]]
    ) -> None:
        """Reports the document, operation and plan caches' counters, read at each scrape."""
        self.registry.register(_OperationCacheCollector(caches))

    def watch_subgraphs(self, guards: Callable[[], Iterable[SubgraphView]]) -> None:
        """Reports each subgraph's breaker state, requests in flight and queued, and whether its
        last active check found it up, read at each scrape."""
        self.registry.register(_SubgraphCollector(guards))

    def watch_stores(self, stores: Callable[[], Iterable[StoreSize]]) -> None:
        """Reports what each bounded store holds and may hold, read at each scrape."""
        self.registry.register(_StoreCollector(stores))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class SubgraphView(Protocol):
    """What the subgraph collector reads of a subgraph (gateway/execution/resilience.py)."""

    name: str

    def breaker_state(self) -> int: ...  # 0 closed, 1 half open, 2 open

    def in_flight(self) -> tuple[int, int]: ...  # (in flight, queued)

    def probed_up(self) -> bool | None: ...  # None: not checked (yet)


class _SubgraphCollector(Collector):
    def __init__(self, guards: Callable[[], Iterable[SubgraphView]]) -> None:
        self.guards = guards

    def collect(self) -> Iterator[Metric]:
        labels = ["subgraph"]
        state = GaugeMetricFamily(
            "rugzak_subgraph_breaker_state",
            "Circuit breaker of each subgraph: 0 closed, 1 half open (trial calls), 2 open",
            labels=labels,
        )
        in_flight = GaugeMetricFamily(
            "rugzak_subgraph_in_flight", "Requests in flight to each subgraph", labels=labels
        )
        queued = GaugeMetricFamily(
            "rugzak_subgraph_queued",
            "Requests waiting for a place under each subgraph's in-flight cap",
            labels=labels,
        )
        up = GaugeMetricFamily(
            "rugzak_subgraph_up",
            "1 if the last active check of the subgraph got an answer, 0 if not",
            labels=labels,
        )
        for guard in self.guards():
            state.add_metric([guard.name], guard.breaker_state())
            flying, waiting = guard.in_flight()
            in_flight.add_metric([guard.name], flying)
            queued.add_metric([guard.name], waiting)
            probed = guard.probed_up()
            if probed is not None:
                up.add_metric([guard.name], 1 if probed else 0)
        yield from (state, in_flight, queued, up)


@dataclass(frozen=True, slots=True)
class StoreSize:
    name: str
    bytes: int
    entries: int
    max_bytes: int


class _StoreCollector(Collector):
    def __init__(self, stores: Callable[[], Iterable[StoreSize]]) -> None:
        self.stores = stores

    def collect(self) -> Iterator[Metric]:
        labels = ["store"]
        size = GaugeMetricFamily(
            "rugzak_store_bytes", "Approximate bytes held by a bounded store", labels=labels
        )
        bound = GaugeMetricFamily(
            "rugzak_store_max_bytes", "The bytes a bounded store may hold", labels=labels
        )
        entries = GaugeMetricFamily("rugzak_store_entries", "Entries in a store", labels=labels)
        for store in self.stores():
            size.add_metric([store.name], store.bytes)
            bound.add_metric([store.name], store.max_bytes)
            entries.add_metric([store.name], store.entries)
        yield from (size, bound, entries)


class _OperationCacheCollector(Collector):
    """The LRUs count for themselves (an integer each, free on the hot path); read here."""

    def __init__(self, caches: Callable[[], Iterable[tuple[str, LRU[Any, Any]]]]) -> None:
        self.caches = caches

    def collect(self) -> Iterator[Metric]:
        labels = ["cache"]
        prefix = "rugzak_operation_cache"
        what = "parsed documents, normalized operations and query plans"
        hits = CounterMetricFamily(f"{prefix}_hits", f"Lookups found in the {what}", labels=labels)
        misses = CounterMetricFamily(
            f"{prefix}_misses", f"Lookups missing from the {what}", labels=labels
        )
        evictions = CounterMetricFamily(
            f"{prefix}_evictions", f"Entries evicted from the {what}", labels=labels
        )
        declined = CounterMetricFamily(
            f"{prefix}_declined",
            f"Entries not kept in the {what}: offered for the first time",
            labels=labels,
        )
        entries = GaugeMetricFamily(f"{prefix}_entries", f"Entries in the {what}", labels=labels)
        size = GaugeMetricFamily(
            f"{prefix}_bytes", f"Approximate bytes held by the {what}", labels=labels
        )
        for name, lru in self.caches():
            hits.add_metric([name], lru.hits)
            misses.add_metric([name], lru.misses)
            evictions.add_metric([name], lru.evictions)
            declined.add_metric([name], lru.declined)
            entries.add_metric([name], len(lru))
            size.add_metric([name], lru.bytes)
        yield from (hits, misses, evictions, declined, entries, size)
