"""A host's addresses, as the registry's checks see them: the one place names are resolved for
the URL policy, both when an SDL is fetched (fetch.py) and whenever a registered subgraph is
connected to (address_guard.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from gateway.registry.url_policy import IPAddress


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without repeats (an IP
    literal: itself). OSError when it cannot be resolved."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except UnicodeError as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
