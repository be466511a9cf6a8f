"""How execution reaches a subgraph: one typed request in, one typed response (or the reason
there is none) out.

The interface has a single method, so that what carries the request can be swapped: the HTTP
client (subgraph_client.py) in the gateway, an in-memory one (memory_transport.py) in unit tests.
What the HTTP response's headers say for caching travels as typed fields beside the GraphQL body,
never inside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from gateway.cache.entities import CacheControl


@dataclass(frozen=True, slots=True)
class SubgraphFailure:
    """Why a subgraph call produced no usable GraphQL response."""

    code: str
    reason: str
    # worth one more try for a query: the connection failed or dropped, or a 502/503/504
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class SubgraphRequest:
    service: str
    url: str
    body: bytes  # the GraphQL request ({"query", "variables"}) as JSON
    headers: Mapping[str, str]  # the caller's, for this subgraph (credentials.py)
    timeout: float  # seconds this attempt may take
    # false for mutations: never sent twice, not even over a connection found dropped
    idempotent: bool = True


@dataclass(frozen=True, slots=True)
class SubgraphResponse:
    body: dict[str, Any]  # the GraphQL response: data, errors, extensions
    cache_control: CacheControl | None = None  # its Cache-Control header (None: none)
    cache_tags: tuple[str, ...] = ()  # what it was read from: its `extensions.cacheTags`

    def copy(self) -> SubgraphResponse:
        """With a body of its own: a request merges answers into the body it gets."""
        body: dict[str, Any] = orjson.loads(orjson.dumps(self.body))
        return SubgraphResponse(body, self.cache_control, self.cache_tags)


class SubgraphTransport(Protocol):
    async def send(self, request: SubgraphRequest) -> SubgraphResponse | SubgraphFailure:
        """The subgraph's answer, or why there is none (never raises for the subgraph's sake)."""
        ...


@dataclass(frozen=True, slots=True)
class SubgraphTimeouts:
    """How long one request to a subgraph may take: `default`, or its own."""

    default: float = 10.0
    by_name: Mapping[str, float] | None = None

    def of(self, service: str) -> float:
        return self.by_name.get(service, self.default) if self.by_name else self.default


def cache_tags(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The tags a subgraph declares its answer depends on: `extensions.cacheTags`."""
    extensions = body.get("extensions")
    tags = extensions.get("cacheTags") if isinstance(extensions, dict) else None
    if not isinstance(tags, list):
        return ()
    return tuple(t for t in tags if isinstance(t, str) and ":" in t)
