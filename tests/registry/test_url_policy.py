"""Which URLs the registry fetches: patterns, address classes, and how they combine."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.registry.url_policy import (
    UrlNotAllowed,
    UrlPattern,
    address_refusal,
    admit,
    parse_patterns,
    parse_url,
)

PUBLIC = ipaddress.ip_address("93.184.215.14")
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("168.63.129.16", "metadata"),
        ("100.100.100.200", "metadata"),
        ("192.0.0.192", "metadata"),
        ("169.254.3.4", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private-use"),
        ("172.16.0.1", "private-use"),
        ("192.168.0.1", "private-use"),
        ("fd12:3456::1", "private-use"),
        ("100.64.0.1", "not globally reachable"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("192.0.0.8", "not globally reachable"),
        ("198.18.0.1", "private-use"),
    ],
)
def test_refused_addresses(address: str, reason: str) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:2800:21f:cb07::1"])
def test_public_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("https://parking.gent.be", "https://parking.gent.be/graphql", True),
        ("https://parking.gent.be", "https://PARKING.gent.be./x", True),
        ("https://parking.gent.be", "https://parking.gent.be:8443/graphql", False),
        ("https://parking.gent.be", "http://parking.gent.be/graphql", False),
        ("https://*.gent.be/graphql", "https://a.b.gent.be/graphql", True),
        ("https://*.gent.be/graphql", "https://gent.be/graphql", False),
        ("https://*.gent.be/graphql", "https://evilgent.be/graphql", False),
        ("https://*.gent.be/graphql", "https://a.gent.be/graphql/x", False),
        ("http://10.1.2.3:8080/subgraphs/*", "http://10.1.2.3:8080/subgraphs/parking", True),
        ("http://10.1.2.3:8080/subgraphs/*", "http://10.1.2.3:8080/other", False),
        ("http://127.0.0.1:*", "http://127.0.0.1:4001/graphql", True),
        ("http://127.0.0.1:*", "http://127.0.0.1/graphql", True),
        ("http://[::1]:*", "http://[0:0::1]:4001/", True),
        ("http://*:*", "http://anything:1/", True),
    ],
)
def test_patterns(pattern: str, url: str, matches: bool) -> None:
    assert UrlPattern.parse(pattern).matches(parse_url(url)) is matches


@pytest.mark.parametrize(
    "pattern",
    [
        "ftp://x.gent.be",
        "x.gent.be",
        "https://user@x.gent.be",
        "https://x.gent.be/a*b",
        "https://x.gent.be:0",
        "https://x.gent.be:70000",
        "https://a*.gent.be",
        "https://x.gent.be/?q=1",
        "https://[::1/",
        "",
    ],
)
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError):
        UrlPattern.parse(pattern)
    with pytest.raises(ValueError):
        parse_patterns([pattern])


@pytest.mark.parametrize(
    "url",
    ["ftp://x/", "file:///etc/passwd", "http://user:pw@x/", "http:///nohost", "not a url"],
)
def test_urls_that_are_never_fetched(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        parse_url(url)


def test_without_patterns_only_public_addresses() -> None:
    url = parse_url("https://parking.gent.be/graphql")
    assert admit(url, [PUBLIC], [], []).names_host_and_port is False
    with pytest.raises(UrlNotAllowed, match="loopback"):
        admit(url, [LOOPBACK], [], [])
    # every address the name resolves to counts: one internal one is enough to refuse
    with pytest.raises(UrlNotAllowed, match="private-use"):
        admit(url, [PUBLIC, ipaddress.ip_address("10.0.0.5")], [], [])
    with pytest.raises(UrlNotAllowed, match="no address"):
        admit(url, [], [], [])


def test_an_organisations_patterns_restrict_it() -> None:
    own = parse_patterns(["https://*.gent.be"])
    admit(parse_url("https://parking.gent.be/"), [PUBLIC], own, [])
    with pytest.raises(UrlNotAllowed, match="none of the organisation's"):
        admit(parse_url("https://parking.leuven.be/"), [PUBLIC], own, [])
    # the operator's patterns for everyone admit, but do not restrict
    everyone = parse_patterns(["https://shared.vlaanderen.be"])
    admit(parse_url("https://shared.vlaanderen.be/"), [PUBLIC], own, everyone)
    admit(parse_url("https://anything.example/"), [PUBLIC], [], everyone)


def test_only_a_pattern_naming_the_host_admits_an_internal_address() -> None:
    internal = ipaddress.ip_address("10.0.0.5")
    url = parse_url("https://parking.gent.be/graphql")
    with pytest.raises(UrlNotAllowed, match="private-use"):
        admit(url, [internal], parse_patterns(["https://*.gent.be"]), [])
    with pytest.raises(UrlNotAllowed):
        admit(url, [internal], parse_patterns(["https://*"]), [])
    admitted = admit(url, [internal], parse_patterns(["https://parking.gent.be"]), [])
    assert admitted.names_host_and_port  # port 443, written or not
    # a wildcard port names the host, not the port: the gateway's own listener stays refused
    loopback = parse_url("http://127.0.0.1:4000/graphql")
    assert not admit(
        loopback, [LOOPBACK], [], parse_patterns(["http://127.0.0.1:*"])
    ).names_host_and_port
    assert admit(
        loopback, [LOOPBACK], [], parse_patterns(["http://127.0.0.1:4000"])
    ).names_host_and_port
