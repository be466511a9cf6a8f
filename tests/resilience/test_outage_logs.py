"""What the gateway logs while Redis or PostgreSQL is away: one line when it goes down (no
traceback), at most a reminder now and then, and one line when it is back; answers keep coming
all along. The gateway runs in this process (so that caplog sees its log) on uvicorn in a
thread; Redis, PostgreSQL and the subgraphs are real processes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from auth.verifier import verifier_from_env
from gateway.cli import parse
from gateway.http.app import create_app
from gateway.serve_config import gateway_config
from tests.e2e.observed import ThreadServer
from tests.e2e.stack import SUPERGRAPH
from tests.resilience.harness import (
    PgCluster,
    RedisProcess,
    World,
    operator_headers,
    profile_body,
    wait_for,
)
from tests.resilience.load import Load, Sample
from tests.servers import listening_socket

OUTAGE = 4.0  # seconds a dependency stays away: many polls, checks and requests
# lines from the outage logs allowed per dependency over OUTAGE: down, back, and slack for a
# slow call on a busy machine ("failed once"); no reminder is due (REMIND_EVERY is 30 s)
MAX_LINES = 3


@contextmanager
def gateway_in_process(
    world: World, monkeypatch: pytest.MonkeyPatch, *options: str
) -> Iterator[str]:
    """The gateway's base URL, serving from this process."""
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    argv = ["serve", "--supergraph", str(SUPERGRAPH)]
    for name, url in world.urls(through_proxy=False).items():
        argv += ["--subgraph-url", f"{name}={url}"]
    sock = listening_socket()
    try:
        app = create_app(gateway_config(parse([*argv, *options], os.environ)), verifier_from_env())
        runner = ThreadServer(app, sock, [])
        runner.start()
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            runner.stop()
    finally:
        sock.close()


def dependency(world: World, url: str, name: str) -> dict[str, object]:
    """A dependency's part of /ready's details."""
    headers = operator_headers(world.issuer)
    found = httpx.get(url + "/ready", headers=headers, timeout=5).json()[name]
    assert isinstance(found, dict)
    return found


def answered(sample: Sample) -> bool:
    """A whole profile, education's part included: nothing needed the dependency that is away."""
    body = sample.body
    if sample.status != 200 or not isinstance(body, dict) or body.get("errors"):
        return False
    me = (body.get("data") or {}).get("me")
    return isinstance(me, dict) and me.get("qualifications") is not None


def lines(caplog: pytest.LogCaptureFixture, logger: str, *, since: int = 0) -> list[str]:
    return [r.getMessage() for r in caplog.records[since:] if r.name == logger]


def recovered(line: str) -> bool:
    return "is back after" in line or "answered again" in line


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    traced = [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text]
    assert not traced, traced[:3]
    assert "Traceback" not in caplog.text


def test_redis_down_is_told_once_and_answers_keep_coming(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    redis = RedisProcess()
    redis.start()
    try:
        options = ("--cache", redis.url, "--rate-limit-store", redis.url,
                   "--rate-limit", "principal=1000/s:1000")  # fmt: skip
        with (
            gateway_in_process(world, monkeypatch, *options) as url,
            Load(url + "/graphql", profile_body, world.callers(), concurrency=2, rate=20) as load,
        ):
            assert wait_for(lambda: len(load.samples) >= 5, 30) is not None
            assert dependency(world, url, "cache")["up"] is True
            before = len(caplog.records)
            killed = time.monotonic()
            redis.kill()
            time.sleep(OUTAGE)
            down = dependency(world, url, "cache")
            redis.start()
            back = time.monotonic()

            def both_back() -> bool:
                told = lines(caplog, "rugzak.cache", since=before) + lines(
                    caplog, "rugzak.rate_limit", since=before
                )
                return sum(recovered(line) for line in told) == 2

            # the rate limit store tries Redis again 5 s after its last failure
            assert wait_for(both_back, 20, 0.1) is not None, caplog.text[-2000:]
            assert (
                wait_for(lambda: dependency(world, url, "cache")["up"] is True, 10, 0.1) is not None
            )
    finally:
        redis.kill()
    no_tracebacks(caplog)
    assert down["up"] is False and down["lastError"]
    for logger, what in (("rugzak.cache", "cache redis"), ("rugzak.rate_limit", "rate limit")):
        # the rate limit store tries Redis only every 5 s: in a 4 s outage it may have failed
        # once, which is one line ("failed once and answered again") instead of down and back
        told = lines(caplog, logger, since=before)
        assert 1 <= len(told) <= MAX_LINES, told
        assert len([line for line in told if " is down: " in line]) <= 1, told
        assert all(line.startswith(what) and "\n" not in line for line in told), told
        assert "Error" in told[0], told  # the error's class
        assert sum(recovered(line) for line in told) == 1, told
    during = [s for s in load.samples if killed <= s.started < back]
    assert during, "requests were sent while Redis was away"
    unanswered = [s.body for s in load.samples if not answered(s)]
    assert not unanswered, unanswered[:3]


def test_postgres_down_is_told_once_and_answers_keep_coming(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    cluster = PgCluster()
    cluster.start()
    try:
        options = ("--registry", cluster.url, "--registry-poll-interval", "0.2")
        with gateway_in_process(world, monkeypatch, *options) as url:
            served = wait_for(
                lambda: dependency(world, url, "registry")["servedVersion"] == 1, 60, 0.2
            )
            assert served is not None, "the registry was seeded and its supergraph served"
            with Load(url + "/graphql", profile_body, world.callers(), 2, 20) as load:
                assert wait_for(lambda: len(load.samples) >= 5, 30) is not None
                before = len(caplog.records)
                stopped = time.monotonic()
                cluster.stop()
                time.sleep(OUTAGE)  # about 20 polls and 4 readiness checks fail
                down = dependency(world, url, "registry")
                cluster.start()
                restarted = time.monotonic()

                def told_back() -> bool:
                    told = lines(caplog, "rugzak.registry", since=before)
                    return any("is back" in line for line in told)

                assert wait_for(told_back, 30, 0.1) is not None, caplog.text[-2000:]
                up = wait_for(lambda: dependency(world, url, "registry")["up"] is True, 10, 0.1)
                assert up is not None
    finally:
        cluster.remove()
    no_tracebacks(caplog)
    assert down["up"] is False and down["lastError"]
    assert "\n" not in str(down["lastError"])
    told = lines(caplog, "rugzak.registry", since=before)
    assert 2 <= len(told) <= MAX_LINES, told
    (down_line,) = [line for line in told if " is down: " in line]
    assert down_line.startswith("registry postgresql://"), told
    assert "OperationalError: " in down_line and "\n" not in down_line, told
    assert any("is back after" in line for line in told), told
    during = [s for s in load.samples if stopped <= s.started < restarted]
    assert during, "requests were sent while PostgreSQL was away"
    unanswered = [s.body for s in load.samples if not answered(s)]
    assert not unanswered, unanswered[:3]
