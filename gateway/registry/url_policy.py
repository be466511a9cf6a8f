"""Which URLs the registry may fetch a subgraph's SDL from (and later route to), for whom.

A registered URL is chosen by the caller, and the gateway fetches it from inside the operator's
network: without a policy, `registry check` is a way to reach loopback services, the cloud's
metadata service or the gateway itself. So:

- The URL is http or https, with a host and no user:password.
- Its host is resolved, and every address it resolves to is checked. Loopback, unspecified,
  link-local, private-use, shared, multicast and other addresses that are not globally
  reachable, and the cloud metadata addresses (whatever range they are in), are refused. The
  fetch then connects to an address that was checked (fetch.py), so a name that resolves to
  another address a moment later (DNS rebinding) changes nothing.
- The gateway's own listeners are refused (checked once connected, fetch.py).

Patterns (`UrlPattern`) say what an organisation may register, set by `registry:admin` and kept
in the registry's store; the operator may add patterns for every organisation in the gateway's
configuration (`--registry-allow-url`):

    https://parking.gent.be            that host, port 443, any path
    https://*.gent.be/graphql          any subdomain of gent.be, port 443, path /graphql
    http://10.1.2.3:8080/subgraphs/*   that address and port, paths under /subgraphs/
    http://127.0.0.1:*                 loopback (the demo, tests), any port

An organisation that has patterns may register only URLs that match one of them (or one of the
operator's); one that has none may register any URL whose addresses are all public. An address
that is refused by default is admitted only by a matching pattern that names the host exactly
(no `*`); the gateway's own listener only by one that names host and port exactly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}

# metadata services of cloud providers: refused whatever range they are in (Azure's and
# Oracle's are outside the link-local range)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
# not globally reachable, although Python's `is_global` says so for some of them
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.0.0/24", "64:ff9b:1::/48", "2001::/23", "100::/64", "fec0::/10")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


class UrlNotAllowed(Exception):
    """The URL may not be fetched: `reason` says why, in words a caller can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    url: str
    scheme: str
    host: str  # lowercase ASCII (IDNA), an IPv6 address without brackets
    port: int
    target: bytes  # path and query, as sent in the request line

    @property
    def path(self) -> str:
        return self.target.split(b"?", 1)[0].decode("ascii", "replace")


def parse_url(url: str) -> ParsedUrl:
    """UrlNotAllowed for anything but http(s)://host[:port][/path][?query]."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise UrlNotAllowed("it is not a valid URL") from exc
    if parsed.scheme not in DEFAULT_PORTS:
        raise UrlNotAllowed("only http and https URLs are fetched")
    if not host:
        raise UrlNotAllowed("it names no host")
    if parsed.userinfo:
        raise UrlNotAllowed("it carries a user name or password")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise UrlNotAllowed("its port is out of range")
    return ParsedUrl(url, parsed.scheme, host, port, parsed.raw_path or b"/")


def address_refusal(address: IPAddress) -> str | None:
    """Why the registry does not fetch from `address` by default; None for a public address.
    IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64, Teredo) are judged by it."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return address_refusal(embedded)
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address (0.0.0.0 or ::)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private-use address"
    if not address.is_global or any(address in net for net in _NOT_GLOBAL):
        return "an address that is not globally reachable"
    return None


@dataclass(frozen=True, slots=True)
class UrlPattern:
    """`scheme://host[:port][/path]`: host exact, `*` or `*.domain`; port exact or `*`
    (left out: the scheme's default); path exact, or a prefix when it ends with `*` (left out
    or `/`: any)."""

    text: str
    scheme: str
    host: str
    port: int | None  # None: any
    path: str  # "" any; "/x/*" prefix "/x/"; "/x" exactly

    @classmethod
    def parse(cls, text: str) -> UrlPattern:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a URL pattern is a non-empty string")
        text = text.strip()
        scheme, sep, rest = text.partition("://")
        if not sep or scheme not in DEFAULT_PORTS:
            raise ValueError(f"{text!r}: a URL pattern starts with http:// or https://")
        authority, slash, path = rest.partition("/")
        path = slash + path
        if "@" in authority or "?" in text or "#" in text:
            raise ValueError(f"{text!r}: no user, query or fragment in a URL pattern")
        host, port = _split_authority(authority, text)
        if "*" in path[:-1]:
            raise ValueError(f"{text!r}: `*` may only end the path")
        return cls(text, scheme, host, port, "" if path in ("", "/", "/*") else path)

    @property
    def names_host(self) -> bool:
        """Written with an exact host, so it may admit an address refused by default."""
        return "*" not in self.host

    @property
    def names_port(self) -> bool:
        return self.port is not None

    def matches(self, url: ParsedUrl) -> bool:
        if url.scheme != self.scheme:
            return False
        if self.port is not None and url.port != self.port:
            return False
        if not _host_matches(self.host, url.host):
            return False
        if not self.path:
            return True
        if self.path.endswith("*"):
            return url.path.startswith(self.path[:-1])
        return url.path == self.path


def _split_authority(authority: str, text: str) -> tuple[str, int | None]:
    port_text: str | None = None
    if authority.startswith("["):
        host, bracket, tail = authority[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise ValueError(f"{text!r}: an IPv6 host is written [address]")
        port_text = tail[1:] if tail else None
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} is not an IPv6 address") from None
    else:
        host, colon, port_part = authority.partition(":")
        port_text = port_part if colon else None
        host = host.lower().rstrip(".")
        try:
            host = str(ipaddress.IPv4Address(host))
        except ValueError:
            labels = host[2:].split(".") if host.startswith("*.") else host.split(".")
            if host != "*" and not all(_HOST_LABEL.fullmatch(label) for label in labels):
                raise ValueError(
                    f"{text!r}: the host is a name, an IP address, `*` or `*.domain`"
                ) from None
    if port_text is None:
        return host, DEFAULT_PORTS[text.partition("://")[0]]
    if port_text == "*":
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: the port is a number from 1 to 65535, or `*`")
    return host, int(port_text)


def _host_matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    if ":" in pattern:  # IPv6: compare the addresses, not their spellings
        try:
            return ipaddress.IPv6Address(host) == ipaddress.IPv6Address(pattern)
        except ValueError:
            return False
    return host == pattern


def parse_patterns(texts: object) -> list[UrlPattern]:
    """ValueError naming the first bad pattern."""
    if not isinstance(texts, list | tuple):
        raise ValueError("URL patterns are a list of strings")
    return [UrlPattern.parse(t) for t in texts]


@dataclass(frozen=True, slots=True)
class Admission:
    """What a URL was admitted with: whether a pattern named its host and port exactly (then the
    gateway's own listener at that address is admitted too)."""

    names_host_and_port: bool


def admit(
    url: ParsedUrl,
    addresses: list[IPAddress],
    own: list[UrlPattern],
    everyone: list[UrlPattern],
) -> Admission:
    """UrlNotAllowed unless `url`, resolving to `addresses`, may be fetched by an organisation
    with patterns `own` (and the operator's patterns for every organisation, `everyone`)."""
    matching = [p for p in (*own, *everyone) if p.matches(url)]
    if own and not matching:
        raise UrlNotAllowed("it matches none of the organisation's allowed URL patterns")
    explicit = [p for p in matching if p.names_host]
    if not addresses:
        raise UrlNotAllowed("its host resolves to no address")
    for address in addresses:
        refusal = address_refusal(address)
        if refusal is not None and not explicit:
            raise UrlNotAllowed(f"its host resolves to {refusal}")
    return Admission(any(p.names_port for p in explicit))
