"""The default subgraph transport (transport.py): HTTP, over a shared pool of connections, with
failures as values.

http:// subgraphs (loopback, a cluster's network) go through gateway.execution.http1, which costs
a fraction of a general client's CPU per request (bench/transport_cost.py); https:// ones through
httpx over aiohttp's connection handling (TLS, proxies).

The headers come with the request: the token the gateway minted for that subgraph and any
client headers let through to it (gateway/execution/credentials.py). The response's
Cache-Control and cache tags come back as the response's typed fields."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from gateway.cache.entities import parse_cache_control
from gateway.execution.guarded_https import guarded_https_client
from gateway.execution.http1 import Http1Transport, RawResponse, head
from gateway.execution.transport import (
    SubgraphFailure,
    SubgraphRequest,
    SubgraphResponse,
    SubgraphTimeouts,
    cache_tags,
)
from gateway.registry.connect_guard import ConnectGuard
from gateway.registry.url_policy import UrlNotAllowed

_FIXED_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


# a replaced route is closed after this long (longer than any subgraph request may take)
_RETIRED_SECONDS = 120.0

_PING_HEADERS = (("accept", "application/json"),)
_PING = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in _PING_HEADERS]


@dataclass(frozen=True, slots=True)
class _Target:
    """A subgraph URL, parsed once: where requests go."""

    plain_http: bool
    host: str
    port: int
    authority: bytes  # host[:port] for the Host header
    path: str  # the path and query the subgraph receives, as sent


@dataclass(frozen=True, slots=True, eq=False)
class _Route:
    """What requests to a routing URL travel over: the shared pools, or a registered
    subgraph's own, whose connections go only where its guard says."""

    http1: Http1Transport
    https: httpx.AsyncClient
    guard: ConnectGuard | None = None

    async def aclose(self) -> None:
        await self.http1.aclose()
        await self.https.aclose()


class _Received:
    """What SubgraphClient reads of a response, from either transport."""

    __slots__ = ("body", "cache_control", "reason", "status")

    def __init__(self, status: int, reason: str, body: bytes, cache_control: str | None) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self.cache_control = cache_control


class SubgraphClient:
    def __init__(
        self,
        default_timeout: float = 10.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 200,
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        # https: httpx's interface, aiohttp's connection handling underneath (on the
        # whole-profile query the gateway's CPU per request went from 11.6 to 7.1 ms with it)
        self._client = httpx.AsyncClient(
            transport=AiohttpTransport(limits=limits), limits=limits, timeout=default_timeout
        )
        self._http1 = Http1Transport(max_connections)
        self._max_connections = max_connections
        self._shared = _Route(self._http1, self._client)
        self._guarded: dict[str, _Route] = {}  # by routing URL
        self._retired: set[_Route] = set()  # replaced, closed once what they carry is done
        self._closing: set[asyncio.Future[None]] = set()
        # the executor's, for each request to a subgraph (the gateway's --subgraph-timeout)
        self.timeouts = SubgraphTimeouts(default_timeout, dict(timeouts or {}))
        self._targets: dict[str, _Target] = {}

    async def set_address_guards(self, guards: Mapping[str, ConnectGuard]) -> None:
        """Guard the connections to these routing URLs (the registry's subgraphs: DNS
        rebinding, gateway/registry/address_guard.py); every other URL is the operator's."""
        old, routes = self._guarded, {}
        for url, guard in guards.items():
            route = old.get(url)
            if route is None or route.guard != guard:
                timeout = self.timeouts.default
                https = guarded_https_client(guard, self._max_connections, timeout)
                route = _Route(Http1Transport(self._max_connections, guard), https, guard)
            routes[url] = route
        self._guarded = routes
        for url, route in old.items():
            if routes.get(url) is not route:  # requests under way finish on their connections
                self._retired.add(route)
                asyncio.get_running_loop().call_later(_RETIRED_SECONDS, self._close_retired, route)

    def _close_retired(self, route: _Route) -> None:
        if route in self._retired:
            self._retired.discard(route)
            closing = asyncio.ensure_future(route.aclose())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            parsed = httpx.URL(url)  # percent-encoded, "/" for an empty path: as sent
            target = self._targets[url] = _Target(
                parsed.scheme == "http",
                parsed.host,
                parsed.port or (80 if parsed.scheme == "http" else 443),
                parsed.netloc,
                parsed.raw_path.decode("ascii"),
            )
        return target

    async def send(self, request: SubgraphRequest) -> SubgraphResponse | SubgraphFailure:
        """One POST of the request's body, within the request's timeout."""
        timeout = request.timeout
        target = self._target(request.url)
        route = self._guarded.get(request.url, self._shared)
        sent = {**_FIXED_HEADERS, **request.headers}
        try:
            if target.plain_http:
                received = await self._plain(
                    route.http1, target, sent, request.body, timeout, request.idempotent
                )
            else:
                received = await self._https(route.https, request.url, sent, request.body, timeout)
        except UrlNotAllowed as exc:
            return _not_allowed(exc)
        except httpx.TimeoutException as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                # the transport maps a refused connection to a timeout; it is not one
                return SubgraphFailure(
                    "SUBREQUEST_HTTP_ERROR", "connection refused or unreachable", retryable=True
                )
            return SubgraphFailure("SUBREQUEST_TIMEOUT", f"no response within {timeout:.3g}s")
        except httpx.HTTPError as exc:
            return SubgraphFailure("SUBREQUEST_HTTP_ERROR", _describe(exc), retryable=True)
        except ValueError as exc:  # a header that cannot be sent
            return SubgraphFailure("SUBREQUEST_HTTP_ERROR", str(exc))
        try:
            body = orjson.loads(received.body)
        except orjson.JSONDecodeError:
            if received.status >= 400:
                return _status_failure(received)
            return SubgraphFailure("SUBREQUEST_MALFORMED_RESPONSE", "response is not JSON")
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            if received.status >= 400:
                return _status_failure(received)
            return SubgraphFailure(
                "SUBREQUEST_MALFORMED_RESPONSE", "response is not a GraphQL response"
            )
        return SubgraphResponse(body, parse_cache_control(received.cache_control), cache_tags(body))

    async def ping(self, url: str, timeout: float) -> int | SubgraphFailure:
        """Whether the subgraph's server answers at all: a GET of its URL with no query (no
        GraphQL work, nothing a subgraph counts as a request), unsigned. The HTTP status, or why
        there was none (for /ready: gateway/readiness.py)."""
        target = self._target(url)
        route = self._guarded.get(url, self._shared)
        try:
            if target.plain_http:
                request_head = head("GET", target.path.encode("ascii"), target.authority, _PING)
                raw = await route.http1.exchange(
                    target.host, target.port, request_head, b"", timeout
                )
                return raw.status
            response = await route.https.get(url, headers=dict(_PING_HEADERS), timeout=timeout)
            return response.status_code
        except UrlNotAllowed as exc:
            return _not_allowed(exc)
        except httpx.TimeoutException as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                return SubgraphFailure("SUBREQUEST_HTTP_ERROR", "connection refused or unreachable")
            return SubgraphFailure("SUBREQUEST_TIMEOUT", f"no response within {timeout:.3g}s")
        except httpx.HTTPError as exc:
            return SubgraphFailure("SUBREQUEST_HTTP_ERROR", _describe(exc), retryable=True)

    async def _plain(
        self,
        http1: Http1Transport,
        target: _Target,
        headers: Mapping[str, str],
        content: bytes,
        timeout: float,
        idempotent: bool,
    ) -> _Received:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        request_head = head("POST", target.path.encode("ascii"), target.authority, raw_headers)
        raw: RawResponse = await http1.exchange(
            target.host, target.port, request_head, content, timeout, idempotent
        )
        cache_control = raw.header(b"cache-control")
        return _Received(
            raw.status,
            raw.reason,
            raw.body,
            cache_control.decode("latin-1") if cache_control is not None else None,
        )

    async def _https(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: Mapping[str, str],
        content: bytes,
        timeout: float,
    ) -> _Received:
        response = await client.post(url, content=content, headers=headers, timeout=timeout)
        return _Received(
            response.status_code,
            response.reason_phrase,
            response.content,
            response.headers.get("cache-control"),
        )

    async def aclose(self) -> None:
        for route in (*self._guarded.values(), *self._retired):
            await route.aclose()
        self._guarded, self._retired = {}, set()
        await self._http1.aclose()
        await self._client.aclose()


def _not_allowed(exc: UrlNotAllowed) -> SubgraphFailure:
    # the kind of address, never the address: the gateway's log has it (address_guard.py)
    reason = f"the registry does not allow connecting to its routing URL: {exc.reason}"
    return SubgraphFailure("URL_NOT_ALLOWED", reason)


def _status_failure(received: _Received) -> SubgraphFailure:
    # a proxy or load balancer in front of the subgraph, or the subgraph overloaded: try again
    retryable = received.status in (502, 503, 504)
    reason = f"HTTP {received.status} {received.reason}"
    return SubgraphFailure("SUBREQUEST_HTTP_ERROR", reason, retryable)


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or unreachable"
    return exc.__class__.__name__
