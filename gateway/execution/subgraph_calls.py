"""One subgraph request as execution makes it, on top of a transport (transport.py): logged for
the request's log line, shared with an identical query already in flight, and sent through the
subgraph's breaker, cap and retries (resilience.py), in a tracing span when tracing is on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway import request_log, tracing
from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.resilience import CIRCUIT_OPEN, Resilience
from gateway.execution.transport import (
    SubgraphFailure,
    SubgraphRequest,
    SubgraphResponse,
    SubgraphTimeouts,
    SubgraphTransport,
)
from gateway.limits import priority

Answer = SubgraphResponse | SubgraphFailure
# (subgraph, request body, the caller's headers)
InFlightKey = tuple[str, bytes, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class Call:
    """A GraphQL request for one subgraph, before it goes out."""

    service: str
    url: str
    payload: dict[str, Any]  # {"query", "variables"}
    headers: SubgraphHeaders
    deadline: float | None  # the client request's (event loop time)
    shareable: bool = True  # a query: may share an identical one's answer; false: a mutation


def graphql_payload(document: str, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": document}
    if variables:
        payload["variables"] = variables
    return payload


class SubgraphCalls:
    def __init__(
        self, transport: SubgraphTransport, resilience: Resilience, timeouts: SubgraphTimeouts
    ) -> None:
        self.transport = transport
        self.resilience = resilience
        self.timeouts = timeouts
        # identical subgraph queries in flight (same body, same caller) share one request
        self.in_flight: dict[InFlightKey, asyncio.Future[Answer]] = {}

    async def make(self, call: Call) -> Answer:
        """A query identical to one in flight (same body, same caller's headers) waits for that
        one's answer (a copy) instead of going out again; a mutation always goes, once."""
        answer = await self._shared(call)
        # an anonymous request goes on with it (merging, shaping, the next fetch) once the
        # requests with a token in flight are done: gateway/limits/priority.py
        await priority.checkpoint()
        return answer

    async def _shared(self, call: Call) -> Answer:
        request_log.fetched(call.service)
        sent = call.headers.for_subgraph(call.service)
        content = orjson.dumps(call.payload)  # serialized once: the key, and then the body sent
        if not call.shareable:
            return await self._send(call, content, sent, idempotent=False)
        key = (call.service, content, tuple(sorted(sent.items())))
        running = self.in_flight.get(key)
        if running is not None:
            result = await asyncio.shield(running)
            return result if isinstance(result, SubgraphFailure) else result.copy()
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.in_flight[key] = future
        try:
            result = await self._send(call, content, sent, idempotent=True)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when nobody else waited
            raise
        finally:
            del self.in_flight[key]

    async def _send(
        self, call: Call, content: bytes, headers: Mapping[str, str], idempotent: bool
    ) -> Answer:
        """Through the subgraph's breaker, cap and retries, within the call's deadline."""
        transport, service, url = self.transport, call.service, call.url

        def attempt(seconds: float) -> Awaitable[Answer]:
            if tracing.tracer is not None:  # a client span; its traceparent goes along
                return tracing.fetch(
                    service,
                    url,
                    headers,
                    lambda sent: transport.send(
                        SubgraphRequest(service, url, content, sent, seconds, idempotent)
                    ),
                )
            return transport.send(
                SubgraphRequest(service, url, content, headers, seconds, idempotent)
            )

        timeout = self.timeouts.of(service)
        result = await self.resilience.call(service, attempt, timeout, call.deadline, idempotent)
        if isinstance(result, SubgraphFailure):
            # a refusal of the open circuit is counted for the request, and told by the
            # circuit's own log (resilience.py), not once per request
            logged = result.code != CIRCUIT_OPEN
            request_log.subgraph_error(service, result.code, result.reason, log_line=logged)
        return result
