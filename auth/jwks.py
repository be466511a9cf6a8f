"""Fetching and caching one issuer's JWKS, without letting callers make us hammer the issuer.

- Fetched lazily on first use, kept for `ttl` seconds (monotonic clock).
- A token whose `kid` is not in the cached set triggers at most one refetch, and refetches of an
  issuer start at most once per `min_refetch_interval` seconds, whatever tokens arrive.
- Concurrent refreshes coalesce: callers arriving while one is under way wait for its outcome.
- A failed fetch is also rate-limited; while the issuer is unreachable, keys that expired at most
  `stale_if_error` seconds ago keep being used, so a short IdP outage does not log everyone out.
- A fetch that fails with nothing usable cached raises AUTH_PROVIDER_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from auth.errors import AuthenticationError, AuthErrorCode
from auth.keys import KeySet
from auth.token_format import parse_json_object

log = logging.getLogger("rugzak.auth")

MAX_JWKS_BYTES = 1 << 20


def check_jwks_url(url: str) -> None:
    """ValueError unless `url` is an http(s) URL or a local file:// URL."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("the JWKS URL has no host")
    elif parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError("a file:// JWKS URL names a local absolute path (file:///...)")
    else:
        raise ValueError("the JWKS URL must be http://, https:// or file://")


def redact_url(url: str) -> str:
    """The URL without user info, query or fragment, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _FetchError(Exception):
    """Why a JWKS could not be had; logged, never shown to the caller."""


def _unavailable() -> AuthenticationError:
    return AuthenticationError(
        AuthErrorCode.AUTH_PROVIDER_UNAVAILABLE,
        "the identity provider's signing keys could not be retrieved; try again later",
    )


class JwksCache:
    """The cached key set of one issuer's JWKS URL."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient | None,
        ttl: float,
        min_refetch_interval: float,
        stale_if_error: float,
        timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        check_jwks_url(url)
        self.url = url
        self._http = http
        self._ttl = ttl
        self._min_interval = min_refetch_interval
        self._stale_if_error = stale_if_error
        self._timeout = timeout
        self._now = monotonic
        self._keys: KeySet | None = None
        self._attempts = 0  # started fetches, successful or not
        self._last_attempt: float | None = None
        self._last_failed = False
        self._inflight: asyncio.Task[KeySet] | None = None

    @property
    def fetch_count(self) -> int:
        """How many fetches were started (for metrics and tests)."""
        return self._attempts

    def _may_fetch(self) -> bool:
        return self._last_attempt is None or self._now() - self._last_attempt >= self._min_interval

    def _usable_stale(self) -> KeySet | None:
        keys = self._keys
        if keys is not None and self._now() - keys.fetched_at < self._ttl + self._stale_if_error:
            return keys
        return None

    async def current(self) -> KeySet:
        """The key set, fetched when there is none yet or it is older than the TTL."""
        keys = self._keys
        if keys is not None and self._now() - keys.fetched_at < self._ttl:
            return keys
        if self._inflight is not None or self._may_fetch():
            try:
                return await self._refresh()
            except AuthenticationError:
                if (stale := self._usable_stale()) is not None:
                    return stale
                raise
        # The last fetch was less than min_refetch_interval ago: do not fetch again yet.
        if keys is not None and not self._last_failed:
            return keys
        if (stale := self._usable_stale()) is not None:
            return stale
        raise _unavailable()

    async def refresh_for_unknown_key(self) -> KeySet | None:
        """Refetch because a token named a key we do not have; None when rate-limited."""
        if not (self._inflight is not None or self._may_fetch()):
            return None
        return await self._refresh()

    async def aclose(self) -> None:
        """Cancel a fetch under way (the shared HTTP client, if any, belongs to the caller)."""
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, AuthenticationError):
                await task

    async def _refresh(self) -> KeySet:
        """Fetch now, or join the fetch already under way (its outcome is shared)."""
        if self._inflight is None:
            task = asyncio.ensure_future(self._fetch_keys())
            self._inflight = task
            task.add_done_callback(self._fetch_done)
        # shield: a caller that is cancelled must not cancel the fetch the others wait for
        return await asyncio.shield(self._inflight)

    def _fetch_done(self, task: asyncio.Task[KeySet]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning when nobody waits

    async def _fetch_keys(self) -> KeySet:
        previous_attempt = self._last_attempt
        self._attempts += 1
        self._last_attempt = self._now()
        try:
            document = await self._fetch()
            keys = KeySet.from_document(parse_json_object(document), self._now())
        except (_FetchError, ValueError) as exc:
            self._last_failed = True
            log.warning("JWKS fetch from %s failed: %s", redact_url(self.url), exc)
            raise _unavailable() from None
        except asyncio.CancelledError:  # aclose(): not the provider's fault, not rate-limited
            self._last_attempt = previous_attempt
            raise
        self._last_failed = False
        self._keys = keys
        return keys

    async def _fetch(self) -> bytes:
        if urlsplit(self.url).scheme == "file":
            return await asyncio.to_thread(self._read_file)
        if self._http is not None:
            return await self._get(self._http)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            return await self._get(client)

    def _read_file(self) -> bytes:
        path = Path(url2pathname(urlsplit(self.url).path))
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_JWKS_BYTES + 1)
        except OSError as exc:
            raise _FetchError(f"cannot read the file: {exc.strerror}") from None
        if len(data) > MAX_JWKS_BYTES:
            raise _FetchError("the document is larger than 1 MiB")
        return data

    async def _get(self, client: httpx.AsyncClient) -> bytes:
        try:
            async with client.stream(
                "GET",
                self.url,
                headers={"Accept": "application/jwk-set+json, application/json"},
                timeout=self._timeout,
                follow_redirects=False,
            ) as response:
                if response.status_code != 200:
                    raise _FetchError(f"HTTP status {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise _FetchError("the document is larger than 1 MiB")
                return bytes(body)
        except _FetchError:
            raise
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise _FetchError(f"{type(exc).__name__}: {exc}") from None
