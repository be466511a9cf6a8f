"""Prometheus metrics of one gateway (`GET /metrics`), in a registry of its own so that several
gateways in one process (tests) do not share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
        self.persisted_queries = Counter(
            "rugzak_persisted_queries",
            "Automatic persisted query lookups, by outcome",
            ["outcome"],
            registry=r,
        )
        self.entity_cache = Counter(
            "rugzak_entity_cache",
            "Entity cache lookups, by subgraph, type and outcome (hit, miss)",
            ["subgraph", "type", "outcome"],
            registry=r,
        )
        self.invalidations = Counter(
            "rugzak_entity_cache_invalidations",
            "Entity cache invalidations, by type or tag",
            ["type"],
            registry=r,
        )
        self.cache_errors = Gauge(
            "rugzak_cache_errors", "Failures of the cache backend since start", registry=r
        )
        self.cache_up = Gauge(
            "rugzak_cache_up", "1 while the cache backend answers, 0 after a failure", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
