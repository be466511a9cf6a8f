"""The TCP sockets this process listens on, so that the registry never fetches from the gateway
itself (its GraphQL endpoint, an admin listener, another worker on the shared socket).

Read from the process's own file descriptors rather than from configuration: `--fd`, forked
workers and listeners added later are all found the same way, and nothing has to be told.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass
from typing import Any, Protocol


class ConnectedSocket(Protocol):
    """A socket, or asyncio's and uvloop's stand-ins for one."""

    def getsockname(self) -> Any: ...
    def getpeername(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Listener:
    address: str  # as bound: "0.0.0.0" or "::" for every address of the host
    port: int

    @property
    def any_address(self) -> bool:
        return ipaddress.ip_address(self.address).is_unspecified


def _descriptors() -> list[int]:
    for directory in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return [int(name) for name in os.listdir(directory) if name.isdigit()]
    return list(range(3, 1024))


def own_listeners() -> frozenset[Listener]:
    found = set()
    for fd in _descriptors():
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        with sock:
            try:
                if sock.family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                if sock.type != socket.SOCK_STREAM:
                    continue
                if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    continue
                address, port = sock.getsockname()[:2]
            except OSError:
                continue
        found.add(Listener(str(ipaddress.ip_address(address.split("%")[0])), int(port)))
    return frozenset(found)


def reaches_own_listener(sock: ConnectedSocket) -> bool:
    """Whether a connected socket's peer is one of this process's listeners. The peer is this
    host when it is a loopback address or the address the connection leaves from (the kernel
    picks the destination itself as the source of a connection to a local address)."""
    try:
        local = ipaddress.ip_address(sock.getsockname()[0].split("%")[0])
        peer_address, peer_port = sock.getpeername()[:2]
        peer = ipaddress.ip_address(peer_address.split("%")[0])
    except (OSError, ValueError):
        return False
    peer = _unmapped(peer)
    this_host = peer.is_loopback or peer == _unmapped(local)
    for listener in own_listeners():
        if listener.port != peer_port:
            continue
        bound = _unmapped(ipaddress.ip_address(listener.address))
        if bound == peer or (listener.any_address and this_host):
            return True
    return False


def _unmapped(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
