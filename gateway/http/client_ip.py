"""The address of the caller, for the rate limit of anonymous callers.

By default it is the socket's peer: `X-Forwarded-For` is a header anyone can send. Behind a
reverse proxy, name the proxies (`--trusted-proxy CIDR`): a request whose peer is one of them
is attributed to the rightmost address of `X-Forwarded-For` that is not a trusted proxy, which
is the last hop no trusted party vouches for. Addresses left of it were written by the client
and are never believed.

IPv6 callers are counted by their /64: one machine usually holds a whole /64, and would
otherwise get a fresh bucket for each of its addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> _Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def parse_networks(items: Iterable[str]) -> tuple[_Network, ...]:
    """`10.0.0.0/8`, `192.168.1.7`, `::1`, comma- or space-separated; ValueError if not."""
    networks = []
    for item in items:
        for part in item.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"a trusted proxy is an address or CIDR, got {part!r}") from None
    return tuple(networks)


class ClientAddress:
    def __init__(self, trusted_proxies: Sequence[_Network] = ()) -> None:
        self.trusted = tuple(trusted_proxies)

    def _trusted(self, address: _Address) -> bool:
        return any(address in network for network in self.trusted)

    def of(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """The caller's address (as a bucket name) given the socket peer and the values of
        every X-Forwarded-For header in order."""
        address = _address(peer) if peer else None
        if address is None:
            return peer
        if self.trusted and self._trusted(address):
            hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
            for hop in reversed(hops):
                found = _address(hop)
                if found is None:  # garbage from beyond the trusted hops: stop believing
                    break
                address = found
                if not self._trusted(found):
                    break
        return _bucket(address)


def _bucket(address: _Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
