"""The SDL fetcher against a real server on loopback, with the host name's resolution under the
test's control: the connection goes to the address that was checked, resolved once (a second
answer of the DNS, as in rebinding, is never asked for), and the Host header keeps the name."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.registry.fetch import FetchLimits, SdlFetcher
from gateway.registry.url_policy import UrlNotAllowed, parse_patterns
from tests.servers import Server, start_python_server

NAME = "parking.rebind.test"


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    server = start_python_server(
        ["-m", "tests.security.hostile_server"], "hostile server", probe="/stats"
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def resolved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name the fetcher resolves; each resolves to 127.0.0.1 first, then to 10.9.9.9."""
    asked: list[str] = []
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        answer = "127.0.0.1" if host not in asked else "10.9.9.9"
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return asked


async def test_the_checked_address_is_the_one_connected_to(
    hostile: Server, resolved: list[str]
) -> None:
    port = int(hostile.url.rsplit(":", 1)[1])
    fetcher = SdlFetcher(FetchLimits(deadline=5.0))
    pattern = parse_patterns([f"http://{NAME}:{port}"])
    sdl = await fetcher.fetch(f"http://{NAME}:{port}/sdl?bytes=1500", pattern, [])
    assert "type Query" in sdl
    assert resolved == [NAME]  # once, and that answer was used
    seen = httpx.get(hostile.url + "/stats", timeout=5).json()["/sdl"]
    assert seen["host"] == f"{NAME}:{port}"


async def test_a_wildcard_pattern_does_not_admit_a_name_resolving_to_loopback(
    hostile: Server, resolved: list[str]
) -> None:
    port = int(hostile.url.rsplit(":", 1)[1])
    fetcher = SdlFetcher(FetchLimits(deadline=5.0))
    with pytest.raises(UrlNotAllowed, match="loopback"):
        await fetcher.fetch(
            f"http://{NAME}:{port}/sdl", parse_patterns(["http://*.rebind.test:*"]), []
        )
