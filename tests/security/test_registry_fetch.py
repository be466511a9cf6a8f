"""The registry's SDL fetch is no weapon (issue 13, finding 3): a gateway with the default policy
and a real hostile server on loopback.

- loopback, 127.x, [::1], 0.0.0.0, link-local, metadata, private, mapped and odd spellings of
  loopback, a host name resolving to loopback, and the gateway's own port are refused with one
  code (URL_NOT_ALLOWED) before anything is sent;
- a redirect is not followed: the address it points to never hears from the gateway;
- a pattern set by registry:admin admits an organisation's URLs, and only that organisation's;
  a pattern with a wildcard port still does not admit the gateway's own listener;
- a server dripping a byte at a time is cut off at the deadline, a 200 MB answer at the size
  limit without being held, a 5 MB SDL is refused for its size;
- no error carries the fetched body, and an open and a closed port answer the same, at the
  same time (the deadline).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.registry.harness import World, cli, make_world, registry_call, wait_until
from tests.security.hostile_server import SECRET
from tests.servers import Server, start_python_server

DEADLINE = 2.0  # the gateway's --registry-fetch-timeout here
UNAVAILABLE = "SUBGRAPH_SDL_UNAVAILABLE"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world, stop = make_world(tmp_path_factory.mktemp("ssrf"))
    try:
        yield world
    finally:
        stop()


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    server = start_python_server(
        ["-m", "tests.security.hostile_server"], "hostile server", probe="/stats"
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateway(world: World) -> Iterator[Server]:
    server = world.start_gateway(
        f"sqlite:{world.tmp / 'registry.sqlite3'}",
        "--registry-fetch-timeout",
        str(DEADLINE),
        allow_loopback=False,  # the default policy
    )
    try:
        yield server
    finally:
        server.stop()


def check(gateway: Server, token: str, url: str, name: str = "probe") -> httpx.Response:
    return registry_call(gateway.url, "POST", f"/check/{name}", token, {"url": url})


def allow(world: World, gateway: Server, org: str, *patterns: str) -> None:
    admin = world.token(None, "registry:admin", subject="operator-admin")
    args = [a for p in patterns for a in ("--allow", p)]
    done = cli(gateway.url, admin, "urls", org, *args)
    assert done.returncode == 0, done.stderr


def stats(hostile: Server) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(hostile.url + "/stats", timeout=5).json()
    return answer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_internal_targets_are_refused_with_one_code(
    world: World, gateway: Server, hostile: Server
) -> None:
    token = world.token("44021")
    port = hostile.url.rsplit(":", 1)[1]
    gateway_port = gateway.url.rsplit(":", 1)[1]
    before = stats(hostile)
    targets = [
        f"http://127.0.0.1:{port}/secret",
        f"http://127.0.0.2:{port}/secret",
        f"http://127.1:{port}/secret",
        f"http://2130706433:{port}/secret",
        f"http://[::1]:{port}/secret",
        f"http://[::ffff:127.0.0.1]:{port}/secret",
        f"http://0.0.0.0:{port}/secret",
        f"http://localhost:{port}/secret",
        f"http://127.0.0.1:{gateway_port}/graphql",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://169.254.10.10/",
        "http://[fe80::1]/",
        "http://10.0.0.1/graphql",
        "http://192.168.1.1/graphql",
        "http://172.16.0.1/graphql",
        "http://100.100.100.200/latest/meta-data/",
    ]
    for url in targets:
        answer = check(gateway, token, url)
        assert answer.status_code == 403, (url, answer.text)
        assert answer.json()["code"] == "URL_NOT_ALLOWED", (url, answer.text)
        assert SECRET not in answer.text
    after = stats(hostile)
    assert after.get("/secret") == before.get("/secret")  # not one request reached it
    assert "/secret" not in after


def test_a_pattern_set_by_the_operator_admits_one_organisation(
    world: World, gateway: Server
) -> None:
    url = world.subgraph_url("permits")
    port = world.subgraphs.url.rsplit(":", 1)[1]
    gent, leuven = world.token("44021"), world.token("24062")
    assert check(gateway, gent, url, "gent-permits").json()["code"] == "URL_NOT_ALLOWED"

    # only registry:admin changes patterns
    refused = cli(gateway.url, gent, "urls", "44021", "--allow", f"http://127.0.0.1:{port}/*")
    assert refused.returncode == 1 and "registry:admin" in refused.stderr
    bad = cli(
        gateway.url,
        world.token(None, "registry:admin", subject="operator-admin"),
        "urls",
        "44021",
        "--allow",
        "ftp://127.0.0.1/",
    )
    assert bad.returncode == 1 and "BAD_URL_PATTERN" in bad.stderr

    allow(world, gateway, "44021", f"http://127.0.0.1:{port}/*")
    accepted = check(gateway, gent, url, "gent-permits")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["action"] == "add"
    # another organisation is not admitted by Gent's pattern
    other = check(gateway, leuven, url, "leuven-permits")
    assert other.json()["code"] == "URL_NOT_ALLOWED"
    # an organisation with patterns may register nothing else: not even a public address
    elsewhere = check(gateway, gent, "https://93.184.215.14/graphql", "gent-permits")
    assert elsewhere.json()["code"] == "URL_NOT_ALLOWED"
    assert "none of the organisation's allowed URL patterns" in elsewhere.json()["message"]

    listed = cli(gateway.url, gent, "urls")
    assert listed.returncode == 0 and f"http://127.0.0.1:{port}/*" in listed.stdout
    admin = world.token(None, "registry:admin", subject="operator-admin")
    everything = registry_call(gateway.url, "GET", "/url-patterns", admin).json()
    assert everything["organisations"]["44021"] == [f"http://127.0.0.1:{port}/*"]
    assert everything["everyOrganisation"] == []


def test_the_gateways_own_port_needs_a_pattern_naming_it(world: World, gateway: Server) -> None:
    port = gateway.url.rsplit(":", 1)[1]
    allow(world, gateway, "90001", "http://127.0.0.1:*")
    wildcard = check(gateway, world.token("90001"), f"{gateway.url}/graphql")
    assert wildcard.json()["code"] == "URL_NOT_ALLOWED"
    assert "own listener" in wildcard.json()["message"]
    allow(world, gateway, "90002", f"http://127.0.0.1:{port}")
    named = check(gateway, world.token("90002"), f"{gateway.url}/graphql")
    assert named.json()["code"] == UNAVAILABLE  # admitted; the gateway is no subgraph


def test_a_redirect_is_not_followed(world: World, gateway: Server, hostile: Server) -> None:
    canary = start_python_server(["-m", "tests.security.hostile_server"], "canary", probe="/stats")
    try:
        allow(world, gateway, "90003", f"{hostile.url}/redirect")
        answer = check(
            gateway, world.token("90003"), f"{hostile.url}/redirect?to={canary.url}/secret"
        )
        assert answer.status_code == 400 and answer.json()["code"] == UNAVAILABLE
        assert stats(hostile)["/redirect"]["requests"] == 1
        assert "/secret" not in stats(canary)
    finally:
        canary.stop()


def test_open_and_closed_ports_cannot_be_told_apart(
    world: World, gateway: Server, hostile: Server
) -> None:
    allow(world, gateway, "90004", "http://127.0.0.1:*")
    token = world.token("90004")
    answers, took = {}, {}
    for url in (
        f"http://127.0.0.1:{closed_port()}/graphql",
        f"{hostile.url}/secret",  # open: an error status with a secret in its body
        f"{hostile.url}/secret-json",  # open: 200, a GraphQL error holding the secret
        f"{hostile.url}/close",  # open: closes without a word
        f"{hostile.url}/silent",  # open: never answers (cut at the deadline)
        f"{hostile.url}/nothing-here",  # open: 404
        f"{world.subgraphs.url}/",  # open: an HTTP server that is no subgraph
    ):
        started = time.monotonic()
        answers[url] = check(gateway, token, url)
        took[url] = time.monotonic() - started
    # nor by the time taken: every failure answers at the deadline
    assert all(DEADLINE <= t < DEADLINE + 3 for t in took.values()), took
    seen = {(a.status_code, a.json()["code"], a.json()["message"]) for a in answers.values()}
    assert len(seen) == 1, seen
    ((status, code, _),) = seen
    assert (status, code) == (400, UNAVAILABLE)
    for answer in answers.values():
        assert SECRET not in answer.text and "hunter2" not in answer.text
        assert "403" not in answer.text and "404" not in answer.text


def test_a_dripping_server_is_cut_at_the_deadline(
    world: World, gateway: Server, hostile: Server
) -> None:
    allow(world, gateway, "90005", "http://127.0.0.1:*")
    # 200 bytes at one every 0.4 s would take 80 s; each byte comes well within a read timeout
    answer = httpx.post(
        f"{gateway.url}/registry/check/probe",
        json={"url": f"{hostile.url}/drip?interval=0.4&bytes=200"},
        headers={"authorization": f"Bearer {world.token('90005')}"},
        timeout=40,
    )
    assert answer.json()["code"] == UNAVAILABLE
    assert f"within {DEADLINE:g} s" in answer.json()["message"]
    # the server notices the closed connection at its next byte or two
    wait_until(lambda: stats(hostile)["/drip"]["cut_off"] == 1, timeout=10)
    # cut off after about DEADLINE / 0.4 bytes, far from the 200 it would have taken
    assert stats(hostile)["/drip"]["bytes"] < 60


def test_a_huge_answer_is_cut_at_the_size_limit_without_being_held(
    world: World, gateway: Server, hostile: Server
) -> None:
    allow(world, gateway, "90006", "http://127.0.0.1:*")
    token = world.token("90006")
    peak_before = _peak_rss_mb(gateway)
    for url in (f"{hostile.url}/huge", f"{hostile.url}/huge?declared=1"):
        answer = check(gateway, token, url)
        assert answer.status_code == 413, answer.text
        assert answer.json()["code"] == "SDL_TOO_LARGE"
        assert "1,000,000 bytes" in answer.json()["message"]
    sent = stats(hostile)["/huge"]
    assert sent["requests"] == 2 and sent["cut_off"] == 2
    # of 2 x 200 MB, little more than the limit and the sockets' buffers was ever sent
    assert sent["bytes"] < 40 * 1024 * 1024
    assert _peak_rss_mb(gateway) - peak_before < 50


def test_a_5mb_sdl_is_refused_for_its_size(world: World, gateway: Server, hostile: Server) -> None:
    allow(world, gateway, "90007", "http://127.0.0.1:*")
    token = world.token("90007")
    for url in (f"{hostile.url}/sdl?bytes=5000000", f"{hostile.url}/sdl?bytes=5000000&chunked=1"):
        answer = check(gateway, token, url)
        assert answer.status_code == 413, answer.text
        assert answer.json()["code"] == "SDL_TOO_LARGE"
    # the gateway serves on
    assert httpx.get(f"{gateway.url}/health", timeout=5).json()["status"] == "ok"


def test_no_credentials_of_the_gateway_are_sent(
    world: World, gateway: Server, hostile: Server
) -> None:
    allow(world, gateway, "90008", "http://127.0.0.1:*")
    answer = check(gateway, world.token("90008"), f"{hostile.url}/sdl?bytes=3000", "heavy")
    assert answer.status_code == 200, answer.text
    sent = stats(hostile)["/sdl"]["headers"]
    assert sent == [
        "accept",
        "accept-encoding",
        "content-length",
        "content-type",
        "host",
        "user-agent",
    ]
    # the fixture subgraphs answer only signed requests, except that one query: registering
    # works although nothing the gateway sends to a registered URL is signed
    url = world.subgraph_url("parking_v1")
    unsigned = httpx.post(url, json={"query": "{ parkingZones { id } }"}, timeout=5)
    assert unsigned.status_code == 401
    assert check(gateway, world.token("90008"), url, "parking").status_code == 200


def _peak_rss_mb(server: Server) -> float:
    with open(f"/proc/{server.proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")
