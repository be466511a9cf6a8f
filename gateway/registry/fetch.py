"""A subgraph's SDL, read from `{ _service { sdl } }` at a URL a caller gave: carefully.

- The URL is checked against the organisation's patterns and every address its host resolves
  to (url_policy.py); the connection goes to a checked address, never to a second lookup.
- No credentials of the gateway go along: no signature, no token. Subgraphs answer this one
  query to anyone (subgraphs/common/gateway_guard.py).
- One deadline for all of it (resolving, connecting, the answer), not per read: a server that
  drips a byte every few seconds is cut off at the deadline.
- The answer is read as it arrives and dropped at the size limit; a larger one is never held.
- Redirects are not followed, compressed answers are not unpacked, proxies from the
  environment are not used.
- Every failure to read an SDL says the same thing, with the same code, whatever happened
  (refused connection, silence, an error status, a body that is not an SDL): the error is no
  way to scan ports or read another service's answer. The details go to the gateway's log,
  never the body.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
import orjson

from gateway.registry.connect_guard import GuardedBackend
from gateway.registry.limits import DEFAULT_MAX_SDL_BYTES, SdlTooLarge
from gateway.registry.own_listeners import reaches_own_listener
from gateway.registry.resolve import resolve
from gateway.registry.url_policy import (
    DEFAULT_PORTS,
    IPAddress,
    ParsedUrl,
    UrlNotAllowed,
    UrlPattern,
    admit,
    parse_url,
)

log = logging.getLogger("rugzak.registry")

SERVICE_SDL_QUERY = "{ _service { sdl } }"
DEFAULT_DEADLINE = 10.0
DEFAULT_MAX_BYTES = DEFAULT_MAX_SDL_BYTES


class SdlUnavailable(Exception):
    """No SDL could be read; the message is the same for every cause."""


class _OwnListener(Exception):
    pass


def unavailable_message(deadline: float, limit: int) -> str:
    return (
        "could not read a federation SDL from the URL: it must answer POST "
        f"{SERVICE_SDL_QUERY} with HTTP 200 and JSON {{data: {{_service: {{sdl}}}}}}, without "
        f"credentials, within {deadline:g} s and {limit:,} bytes (the gateway's log says more)"
    )


@dataclass(frozen=True, slots=True)
class FetchLimits:
    deadline: float = DEFAULT_DEADLINE  # seconds for everything: DNS, connect, the whole answer
    max_bytes: int = DEFAULT_MAX_BYTES  # of the answer's body


@dataclass(frozen=True, slots=True)
class _Pinned:
    """A ConnectGuard for the one address that was checked, whatever host the URL names, and
    not this gateway's own listeners unless the URL's pattern named them."""

    address: IPAddress
    allow_own_listener: bool

    async def addresses(self, host: str, port: int) -> Sequence[str]:
        return (str(self.address),)

    def check_peer(self, sock: Any) -> None:
        if not self.allow_own_listener and (sock is None or reaches_own_listener(sock)):
            raise _OwnListener


class SdlFetcher:
    def __init__(self, limits: FetchLimits | None = None) -> None:
        self.limits = limits or FetchLimits()
        self._ssl = httpx.create_ssl_context()

    @property
    def unavailable(self) -> str:
        return unavailable_message(self.limits.deadline, self.limits.max_bytes)

    async def fetch(
        self,
        url: str,
        own: Sequence[UrlPattern] = (),
        everyone: Sequence[UrlPattern] = (),
        *,
        trusted: bool = False,
    ) -> str:
        """The SDL at `url`, for an organisation with patterns `own` (`everyone`: the operator's
        patterns for all). `trusted`: a URL from the operator's own configuration (the
        --supergraph file), fetched without the address checks but with every other limit.
        UrlNotAllowed, SdlTooLarge or SdlUnavailable otherwise."""
        parsed = parse_url(url)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.limits.deadline):
                addresses = await _resolve(parsed)
                allow_own = trusted or (
                    admit(parsed, addresses, list(own), list(everyone)).names_host_and_port
                )
                return await self._read(parsed, addresses, allow_own)
        except TimeoutError:
            log.warning("registry: no SDL from %s within %g s", url, self.limits.deadline)
        except _OwnListener:
            raise UrlNotAllowed("it reaches this gateway's own listener") from None
        except _Failed as exc:
            log.warning("registry: no SDL from %s: %s", url, exc)
        if not trusted:
            # a failure answers at the deadline, whatever it was: a closed port (refused at
            # once) and an open one that does not answer are not told apart by the time taken
            await asyncio.sleep(max(0.0, started + self.limits.deadline - time.monotonic()))
        raise SdlUnavailable(self.unavailable)

    async def _read(self, url: ParsedUrl, addresses: list[IPAddress], allow_own: bool) -> str:
        failure: _Failed | None = None
        for address in addresses:
            try:
                body = await self._post(url, address, allow_own)
            except _Unreachable as exc:
                failure = exc
                continue
            return _sdl_of(body)
        raise failure or _Failed("no address")

    async def _post(self, url: ParsedUrl, address: IPAddress, allow_own: bool) -> bytes:
        request = orjson.dumps({"query": SERVICE_SDL_QUERY})
        limit = self.limits.max_bytes
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl,
            max_connections=1,
            retries=0,
            network_backend=GuardedBackend(_Pinned(address, allow_own)),
        )
        deadline = self.limits.deadline
        timeouts = {"connect": deadline, "read": deadline, "write": deadline, "pool": deadline}
        async with pool:
            try:
                async with pool.stream(
                    "POST",
                    httpcore.URL(
                        scheme=url.scheme.encode(),
                        host=url.host.encode(),
                        port=url.port,
                        target=url.target,
                    ),
                    headers=[
                        (b"host", _authority(url)),
                        (b"content-type", b"application/json"),
                        (b"accept", b"application/json"),
                        (b"accept-encoding", b"identity"),
                        (b"user-agent", b"rugzak-registry"),
                    ],
                    content=request,
                    extensions={"timeout": timeouts},
                ) as response:
                    if response.status != 200:
                        raise _Failed(f"HTTP {response.status}")
                    declared = _content_length(response.headers)
                    if declared is not None and declared > limit:
                        raise SdlTooLarge(limit)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_stream():
                        size += len(chunk)
                        if size > limit:
                            raise SdlTooLarge(limit)
                        chunks.append(chunk)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                raise _Unreachable(f"{address}: {type(exc).__name__} {exc}") from exc
            except httpcore.TimeoutException as exc:
                raise _Failed(f"{type(exc).__name__}") from exc
            except (httpcore.ProtocolError, httpcore.NetworkError, OSError) as exc:
                raise _Failed(f"{type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)


class _Failed(Exception):
    """Why no SDL was read, for the log only."""


class _Unreachable(_Failed):
    """This address did not take the connection: the next one may."""


async def _resolve(url: ParsedUrl) -> list[IPAddress]:
    try:
        return await resolve(url.host, url.port)
    except OSError as exc:
        raise _Failed(f"cannot resolve {url.host}: {exc}") from exc


def _authority(url: ParsedUrl) -> bytes:
    host = f"[{url.host}]" if ":" in url.host else url.host
    default = DEFAULT_PORTS[url.scheme] == url.port
    return (host if default else f"{host}:{url.port}").encode("ascii")


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


def _sdl_of(body: bytes) -> str:
    try:
        payload = orjson.loads(body)
        sdl = payload["data"]["_service"]["sdl"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        answer = "the answer is not {data: {_service: {sdl}}}"
        raise _Failed(f"{answer}: {type(exc).__name__}") from exc
    if not isinstance(sdl, str) or not sdl.strip():
        raise _Failed("the answer has no _service.sdl")
    return sdl
