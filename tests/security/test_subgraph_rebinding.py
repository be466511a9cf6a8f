"""DNS rebinding against a registered subgraph: its routing URL's host name resolved to a public
address when Gent registered it, and resolves to loopback or the cloud's metadata service when
the gateway later calls it. Every connection to a registered subgraph is judged by the registry's
URL policy as it is opened, so the call is refused (URL_NOT_ALLOWED, without the address), while
the operator's own subgraph on loopback answers as before.

The gateway runs in this process, so the test owns name resolution (the event loop's getaddrinfo)
and where connections to the 'public' address really go (the fixture subgraph server on
loopback): nothing leaves the machine."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from auth.principal import ANONYMOUS, Principal
from gateway.config import GatewayConfig
from gateway.execution.subgraph_client import SubgraphClient
from gateway.execution.transport import SubgraphFailure, SubgraphRequest
from gateway.http.app import GatewayApp
from gateway.pipeline.context import RequestContext
from gateway.registry.address_guard import AddressGuard
from gateway.registry.changes import SubgraphChanges
from gateway.registry.url_policy import parse_patterns
from tests.registry.harness import BASE_ANSWER, BASE_QUERY, PARKING_ANSWER, World, make_world

NAME = "parking.rebind.test"
# a global address, never connected to: the test's event loop sends it to the fixture server
PUBLIC = "1.2.3.4"
GENT = Principal(
    subject="ci-44021", scopes=frozenset({"registry:write"}), organisation="44021", token="t"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made, stop = make_world(tmp_path_factory.mktemp("rebinding"))
    try:
        yield made
    finally:
        stop()


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What NAME resolves to (the last item, changed by the test); connections to PUBLIC go to
    the fixture server on loopback."""
    answer = [PUBLIC]
    loop = asyncio.get_running_loop()
    real_getaddrinfo, real_connect = loop.getaddrinfo, loop.create_connection

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer[-1], port))]
        return await real_getaddrinfo(host, port, *args, **kwargs)

    async def create_connection(factory: Any, host: Any = None, *args: Any, **kwargs: Any) -> Any:
        return await real_connect(factory, "127.0.0.1" if host == PUBLIC else host, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(loop, "create_connection", create_connection)
    return answer


@pytest.fixture
async def gateway(world: World, tmp_path: Path) -> AsyncIterator[GatewayApp]:
    config = GatewayConfig(
        supergraph=str(world.supergraph_file),
        registry_url=f"sqlite:{tmp_path / 'registry.sqlite3'}",
        gateway_key_dir=world.tmp / "gateway-keys",
        probe_interval=0,
    )
    app = GatewayApp(config)
    assert app.registry is not None
    await app.registry.start()  # seeded with the operator's base subgraph, on loopback
    try:
        yield app
    finally:
        await app.registry.stop()
        await app.client.aclose()


async def query(app: GatewayApp, text: str) -> dict[str, Any]:
    headers = app.credentials.for_caller(ANONYMOUS, {})
    body: dict[str, Any] = (await app.handler.handle(RequestContext(text, headers=headers))).body
    return body


async def register(app: GatewayApp, world: World) -> str:
    port = world.subgraphs.url.rsplit(":", 1)[1]
    url = f"http://{NAME}:{port}/parking_v1/graphql"
    assert app.registry is not None
    added = await SubgraphChanges(app.registry).register(GENT, "gent-parking", url)
    assert added["live"], added
    return url


async def test_a_registered_subgraph_answers_while_its_name_resolves_to_a_public_address(
    world: World, dns: list[str], gateway: GatewayApp
) -> None:
    await register(gateway, world)
    assert await query(gateway, "{ parkingZones { id name } }") == PARKING_ANSWER


@pytest.mark.parametrize("rebound", ["127.0.0.1", "169.254.169.254", "::1"])
async def test_a_name_rebound_to_an_internal_address_after_registration_is_refused(
    world: World, dns: list[str], gateway: GatewayApp, rebound: str
) -> None:
    await register(gateway, world)  # checked: NAME resolves to a public address
    dns.append(rebound)  # ... and no longer does
    body = await query(gateway, "{ parkingZones { id name } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "URL_NOT_ALLOWED"
    assert error["extensions"]["service"] == "gent-parking"
    assert "address" in error["message"]
    assert rebound not in str(body) and "169.254" not in str(body) and PUBLIC not in str(body)
    # the operator's own subgraph, on loopback by the operator's choice, is not guarded
    assert await query(gateway, BASE_QUERY) == BASE_ANSWER
    dns.append(PUBLIC)  # resolving to an allowed address again: answered again
    assert await query(gateway, "{ parkingZones { id name } }") == PARKING_ANSWER


def subgraph_request(url: str) -> SubgraphRequest:
    return SubgraphRequest("gent-parking", url, b'{"query": "{ __typename }"}', {}, timeout=5.0)


async def test_an_https_subgraph_rebound_to_the_metadata_service_is_refused(
    dns: list[str],
) -> None:
    url = f"https://{NAME}/graphql"
    client = SubgraphClient()
    try:
        await client.set_address_guards({url: AddressGuard(url)})
        dns.append("169.254.169.254")
        failure = await client.send(subgraph_request(url))
        assert isinstance(failure, SubgraphFailure)
        assert failure.code == "URL_NOT_ALLOWED"
        assert "metadata" in failure.reason and "169.254" not in failure.reason
        assert await client.ping(url, 1.0) == failure
    finally:
        await client.aclose()


async def test_a_name_rebound_to_the_gateways_own_listener_is_refused(dns: list[str]) -> None:
    """Loopback allowed for the name by a pattern naming its host (not its port): the gateway's
    own listener, here a socket this process listens on, is still refused once connected."""
    with socket.create_server(("127.0.0.1", 0)) as own:
        port = own.getsockname()[1]
        url = f"http://{NAME}:{port}/graphql"
        client = SubgraphClient()
        try:
            patterns = parse_patterns([f"http://{NAME}:*"])
            await client.set_address_guards({url: AddressGuard(url, patterns)})
            dns.append("127.0.0.1")
            failure = await client.send(subgraph_request(url))
            assert isinstance(failure, SubgraphFailure)
            assert failure.code == "URL_NOT_ALLOWED"
            assert "own listener" in failure.reason
        finally:
            await client.aclose()
