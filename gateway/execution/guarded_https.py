"""An https client whose every new connection goes where a guard says (the addresses it judged,
gateway/registry/address_guard.py), for registered subgraphs: httpx over httpcore, with a
network backend that asks the guard instead of resolving the host itself. TLS still verifies
the certificate for the URL's host name; only the address connected to is chosen."""

from __future__ import annotations

import httpcore
import httpx

from gateway.registry.connect_guard import ConnectGuard, GuardedBackend


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: ConnectGuard, max_connections: int) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx builds its pool with the default backend; this one connects through the guard
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(guard),
        )


def guarded_https_client(
    guard: ConnectGuard, max_connections: int, timeout: float
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=_GuardedTransport(guard, max_connections), timeout=timeout, trust_env=False
    )
