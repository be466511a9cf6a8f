"""A subgraph transport without servers: each subgraph is a function in this process that takes a
GraphQL request and returns a GraphQL response (e.g. an executable schema), so that planning and
execution can be tested together without HTTP.

It keeps what it was sent, per subgraph, for a test to read: which fetches went out, with which
variables and headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.cache.entities import CacheControl
from gateway.execution.transport import (
    SubgraphFailure,
    SubgraphRequest,
    SubgraphResponse,
    cache_tags,
)

# a subgraph: the GraphQL request ({"query", "variables"}) -> the GraphQL response
Subgraph = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Received:
    """One request a subgraph got."""

    query: str
    variables: dict[str, Any]
    headers: dict[str, str]


@dataclass(slots=True)
class InMemoryTransport:
    subgraphs: Mapping[str, Subgraph]
    # per subgraph, the Cache-Control its answers carry (none: no header)
    cache_control: Mapping[str, CacheControl] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=dict)

    async def send(self, request: SubgraphRequest) -> SubgraphResponse | SubgraphFailure:
        subgraph = self.subgraphs.get(request.service)
        if subgraph is None:
            return SubgraphFailure("SUBREQUEST_HTTP_ERROR", "connection refused or unreachable")
        payload = orjson.loads(request.body)  # as a server would: its own copy
        variables = payload.get("variables") or {}
        self.received.setdefault(request.service, []).append(
            Received(payload["query"], variables, dict(request.headers))
        )
        body = await subgraph(payload)
        if "data" not in body and "errors" not in body:
            return SubgraphFailure(
                "SUBREQUEST_MALFORMED_RESPONSE", "response is not a GraphQL response"
            )
        body = orjson.loads(orjson.dumps(body))  # JSON only, as over the wire
        return SubgraphResponse(body, self.cache_control.get(request.service), cache_tags(body))

    def queries(self, service: str) -> list[str]:
        """The documents `service` was sent, in order."""
        return [r.query for r in self.received.get(service, [])]
