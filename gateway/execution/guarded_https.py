"""An https client whose every new connection goes where a guard says (the addresses it judged,
gateway/registry/address_guard.py), for registered subgraphs: httpx over httpcore, with a
network backend that asks the guard instead of resolving the host itself. TLS still verifies
the certificate for the URL's host name; only the address connected to is chosen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from gateway.execution.http1 import ConnectGuard


class _GuardedBackend(httpcore.AsyncNetworkBackend):
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


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: ConnectGuard, max_connections: int) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx builds its pool with the default backend; this one connects through the guard
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=_GuardedBackend(guard),
        )


def guarded_https_client(
    guard: ConnectGuard, max_connections: int, timeout: float
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=_GuardedTransport(guard, max_connections), timeout=timeout, trust_env=False
    )
