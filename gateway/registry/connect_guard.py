"""Connections that go only where a guard says: the guard names the addresses a new connection
to a host may be made to (already judged, so no second lookup can differ) and checks the socket
once connected (never the gateway's own listener). Two users: every connection to a registered
subgraph (address_guard.py, through the HTTP/1 transport or the https client of
gateway/execution/) and the registry's SDL fetch (fetch.py, pinned to the one address it
checked). `GuardedBackend` is that rule as an httpcore network backend; TLS still verifies the
certificate for the URL's host name, only the address connected to is chosen."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import httpcore


class ConnectGuard(Protocol):
    """Where connections may go. Its refusals are raised as they are: they are not connection
    failures."""

    async def addresses(self, host: str, port: int) -> Sequence[str]:
        """The addresses a new connection to host:port may be made to, in order."""
        ...

    def check_peer(self, sock: Any) -> None:
        """Raises if a connection just made may not be used."""
        ...


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's backend, connecting to the guard's addresses in turn instead of resolving the
    host itself."""

    def __init__(self, guard: ConnectGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(address, port, timeout, local_address)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            try:
                self._guard.check_peer(stream.get_extra_info("socket"))
            except BaseException:
                await stream.aclose()
                raise
            return stream
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
