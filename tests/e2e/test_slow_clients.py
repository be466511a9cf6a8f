"""HTTP server hygiene (issue 14, point 3) against a real gateway over loopback: slow and
vanishing clients, connection and keep-alive limits, and a graceful stop on SIGTERM.

- 200 slowloris connections (a header byte a second, or nothing at all) are closed once the
  header timeout has passed, while normal requests are answered meanwhile;
- a body that trickles is cut off at the body timeout;
- connections beyond the cap are answered 503 at once; a keep-alive connection serves a bounded
  number of requests;
- clients that go away mid-body, or while their request waits on a subgraph, end it quietly:
  nothing in the gateway's log, and the subgraph call is abandoned too;
- SIGTERM with a request in flight: no new connections, the request is answered, then the
  process ends (also with --workers), and within the shutdown bound when a request hangs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.stack import ANN, Stack
from tests.security.helpers import TRACEBACK_MARKERS, bearer, metrics, start_gateway_logged
from tests.servers import Server, start_uvicorn

SLOW_QUERY = "{ me { qualifications { totalCount } } }"  # needs education


def address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def quiet(log: Path) -> None:
    text = log.read_text(errors="replace")
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, text[-3000:]


# -- slowloris --------------------------------------------------------------------------------


async def _slowloris(host: str, port: int, silent: bool, give_up: float) -> tuple[float, bytes]:
    """One slow client: seconds until the server closed the connection, and what it answered."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    if not silent:
        writer.write(b"POST /graphql HTTP/1.1\r\nhost: gateway\r\nx-slow: ")
    answer = b""
    try:
        while time.monotonic() - started < give_up:
            try:
                chunk = await asyncio.wait_for(reader.read(1024), 1.0)
            except TimeoutError:
                if not silent:
                    writer.write(b"a")  # one more header byte a second
                    await writer.drain()
                continue
            if not chunk:
                return time.monotonic() - started, answer
            answer += chunk
    except ConnectionError:
        return time.monotonic() - started, answer
    finally:
        writer.close()
    return float("inf"), answer


async def _normal_requests(url: str, headers: dict[str, str], count: int) -> list[int]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        codes = []
        for _ in range(count):
            response = await client.post(url, json={"query": SLOW_QUERY}, headers=headers)
            codes.append(response.status_code)
            await asyncio.sleep(0.1)
        return codes


def test_slowloris_connections_are_closed_while_others_are_served(
    stack: Stack, tmp_path: Path
) -> None:
    header_timeout = 2.0
    log = tmp_path / "gateway.log"
    flags = ("--header-timeout", str(header_timeout))
    with start_gateway_logged(stack.env, stack.subgraph_urls(), log, *flags) as gateway:
        host, port = address(gateway)
        ann = bearer(stack.issuer, "ann", insz=ANN)

        async def attack() -> tuple[list[tuple[float, bytes]], list[int]]:
            slow = [_slowloris(host, port, n % 10 == 0, give_up=30.0) for n in range(200)]
            normal = _normal_requests(gateway.url + "/graphql", ann, 20)
            *closed, codes = await asyncio.gather(*slow, normal)
            return closed, codes  # type: ignore[return-value]

        closed, codes = asyncio.run(attack())
        assert codes == [200] * 20  # normal requests went through all along
        times = sorted(seconds for seconds, _ in closed)
        assert times[-1] != float("inf"), "a slowloris connection was never closed"
        print(f"slowloris: 200 connections closed after {times[0]:.2f}-{times[-1]:.2f} s")
        for _, answer in closed:
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer
        quiet(log)


def test_a_trickling_body_is_cut_off(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    flags = ("--body-timeout", "1")
    with start_gateway_logged(stack.env, stack.subgraph_urls(), log, *flags) as gateway:
        with socket.create_connection(address(gateway), timeout=20) as sock:
            sock.sendall(
                b"POST /graphql HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
                b"content-length: 1000\r\n\r\n" + b'{"query": "{ __typename '
            )
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 15:
                try:
                    if sock.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    break
                except ConnectionError:
                    closed = True
                    break
            assert closed, "the connection was still open"
        assert httpx.get(gateway.url + "/health", timeout=10).status_code == 200
        quiet(log)


# -- connection and keep-alive limits -------------------------------------------------------


def test_connections_beyond_the_cap_are_refused_at_once(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    flags = ("--max-connections", "20", "--header-timeout", "60")
    with start_gateway_logged(stack.env, stack.subgraph_urls(), log, *flags) as gateway:
        held = [socket.create_connection(address(gateway), timeout=10) for _ in range(20)]
        try:
            with socket.create_connection(address(gateway), timeout=10) as extra:
                extra.sendall(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n")
                answer = extra.recv(1024)
                assert answer.startswith(b"HTTP/1.1 503 "), answer
        finally:
            for sock in held:
                sock.close()
        assert wait_until(
            lambda: httpx.get(gateway.url + "/health", timeout=10).status_code == 200, 10
        )


def _exchange(sock: socket.socket) -> bytes:
    """GET /health on an open connection; the answer's head, after its whole body is read."""
    sock.sendall(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before an answer"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    head = head.lower()
    length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "closed mid-answer"
        body += chunk
    return head


def test_keep_alive_limits(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    flags = ("--max-requests-per-connection", "3", "--keep-alive-timeout", "1")
    with start_gateway_logged(stack.env, stack.subgraph_urls(), log, *flags) as gateway:
        with socket.create_connection(address(gateway), timeout=10) as sock:
            heads = [_exchange(sock) for _ in range(3)]
            assert [b"connection: close" in head for head in heads] == [False, False, True]
            assert sock.recv(4096) == b""  # closed after the third
        with socket.create_connection(address(gateway), timeout=10) as sock:
            _exchange(sock)
            sock.settimeout(15)
            assert sock.recv(4096) == b""  # idle: closed after the keep-alive timeout


# -- clients that go away -------------------------------------------------------------------


def test_clients_that_leave_mid_body_leave_no_trace(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    with start_gateway_logged(stack.env, stack.subgraph_urls(), log) as gateway:

        def leave() -> None:
            with socket.create_connection(address(gateway), timeout=10) as sock:
                sock.sendall(
                    b"POST /graphql HTTP/1.1\r\nhost: gateway\r\n"
                    b"content-type: application/json\r\ncontent-length: 5000\r\n\r\n"
                    + b'{"query": "{ __typename }", "padding": "'
                    + b"x" * 100
                )

        threads = [threading.Thread(target=leave) for _ in range(200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wait_until(
            lambda: (
                metrics(gateway.url, stack.issuer).get("rugzak_requests_abandoned_total") == 200
            ),
            15,
        ), metrics(gateway.url, stack.issuer).get("rugzak_requests_abandoned_total")
        assert stack.query("{ __typename }", url=gateway.url + "/graphql").status_code == 200
    quiet(log)


@dataclass
class SlowSubgraph:
    url: str
    events: Path

    def lines(self) -> list[str]:
        return self.events.read_text().split()


@contextmanager
def slow_education(stack: Stack, tmp_path: Path, seconds: float) -> Iterator[SlowSubgraph]:
    """Education behind a proxy that waits `seconds` before forwarding each request."""
    events = tmp_path / "slow-education.log"
    events.touch()
    env = {
        "RUGZAK_SLOW_UPSTREAM": stack.subgraph_urls()["education"],
        "RUGZAK_SLOW_SECONDS": str(seconds),
        "RUGZAK_SLOW_LOG": str(events),
    }
    with start_uvicorn("tests.e2e.slow_proxy:app", "slow education", env) as proxy:
        yield SlowSubgraph(proxy.url + "/graphql", events)


def test_a_client_that_leaves_cancels_its_subgraph_calls(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    with slow_education(stack, tmp_path, seconds=5) as education:
        urls = {**stack.subgraph_urls(), "education": education.url}
        with start_gateway_logged(stack.env, urls, log) as gateway:
            body = json.dumps({"query": SLOW_QUERY}).encode()
            token = bearer(stack.issuer, "ann", insz=ANN)["authorization"]
            with socket.create_connection(address(gateway), timeout=10) as sock:
                sock.sendall(
                    b"POST /graphql HTTP/1.1\r\nhost: gateway\r\n"
                    b"content-type: application/json\r\n"
                    + f"authorization: {token}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                assert wait_until(lambda: "start" in education.lines(), 10)
            # the gateway stops waiting for education as soon as its client is gone
            assert wait_until(lambda: len(education.lines()) == 2, 10)
            assert education.lines() == ["start", "abandoned"]
            counted = metrics(gateway.url, stack.issuer)
            assert counted["rugzak_requests_abandoned_total"] == 1
            # and keeps serving: a new request to education gets its answer
            answer = stack.query(SLOW_QUERY, insz=ANN, url=gateway.url + "/graphql")
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    quiet(log)


# -- SIGTERM --------------------------------------------------------------------------------


def _refused(server: Server) -> bool:
    try:
        with socket.create_connection(address(server), timeout=2) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n")
            return sock.recv(1024) == b""  # accepted by nobody, closed at exit
    except OSError:
        return True


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_requests_in_flight_finish(stack: Stack, tmp_path: Path, workers: int) -> None:
    log = tmp_path / "gateway.log"
    with slow_education(stack, tmp_path, seconds=3) as education:
        urls = {**stack.subgraph_urls(), "education": education.url}
        flags = ("--workers", str(workers), "--shutdown-timeout", "30")
        with start_gateway_logged(stack.env, urls, log, *flags) as gateway:
            answers: list[httpx.Response] = []
            asking = threading.Thread(
                target=lambda: answers.append(
                    stack.query(SLOW_QUERY, insz=ANN, url=gateway.url + "/graphql")
                )
            )
            asking.start()
            assert wait_until(lambda: "start" in education.lines(), 10)
            os.kill(gateway.proc.pid, signal.SIGTERM)
            # no new connections while the one in flight finishes
            assert wait_until(lambda: _refused(gateway), 5)
            assert gateway.proc.poll() is None
            asking.join(timeout=30)
            (answer,) = answers
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert "errors" not in body and body["data"]["me"]["qualifications"]["totalCount"] >= 0
            assert education.lines() == ["start", "done"]
            gateway.proc.wait(timeout=20)
    quiet(log)


def test_sigterm_does_not_wait_past_the_shutdown_timeout(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    with slow_education(stack, tmp_path, seconds=60) as education:
        urls = {**stack.subgraph_urls(), "education": education.url}
        flags = ("--shutdown-timeout", "1", "--subgraph-timeout", "120")
        with start_gateway_logged(stack.env, urls, log, *flags) as gateway:
            asking = threading.Thread(
                target=lambda: stack.query(SLOW_QUERY, insz=ANN, url=gateway.url + "/graphql")
            )
            asking.start()
            assert wait_until(lambda: "start" in education.lines(), 10)
            os.kill(gateway.proc.pid, signal.SIGTERM)
            gateway.proc.wait(timeout=20)  # far less than the 60 s the request would take
            asking.join(timeout=30)
