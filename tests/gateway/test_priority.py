"""Anonymous requests take turns and give way to callers with a token (gateway/limits/priority.py),
as the gateway's request path uses them: settings, the line, refusals, cancellations, and the
pause of an anonymous validation in its thread."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest
from graphql import ExecutionResult, build_schema, execute, parse, specified_rules, validate

import gateway.limits.priority as priority_module
from gateway.limits.priority import (
    GATEWAY_BUSY,
    Busy,
    Pauser,
    Priority,
    PrioritySettings,
    TokensFirst,
    checkpoint,
)


def test_settings_parse_and_print() -> None:
    assert PrioritySettings.parse("") == PrioritySettings()
    assert str(PrioritySettings()) == (
        "concurrency=2,per-address=1,queue=256,queue-per-address=128,yield=0.25"
    )
    assert PrioritySettings.parse(str(PrioritySettings())) == PrioritySettings()
    assert PrioritySettings.parse("off").enabled is False
    assert PrioritySettings.parse("queue-per-address=3").queue_per_address == 3
    custom = PrioritySettings.parse("concurrency=4, per-address=2,queue=0,yield=0")
    assert (custom.concurrency, custom.per_address, custom.queue, custom.yield_seconds) == (
        4, 2, 0, 0.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("concurrency", "concurrency=N"),
        ("speed=3", "concurrency=N"),
        ("concurrency=two", "wants a number"),
        ("concurrency=0", "too small"),
        ("queue=-1", "too small"),
        ("yield=nan", "wants seconds"),
        ("queue=2.5", "wants a number"),
        ("concurrency=1,per-address=2", "cannot exceed"),
        ("queue-per-address=-1", "too small"),
    ],
)
def test_settings_refuse_mistakes(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        PrioritySettings.parse(text)


async def _hold(
    priority: Priority, address: str, entered: list[str], release: asyncio.Event
) -> None:
    async with priority.turn(True, address):
        entered.append(address)
        await release.wait()


async def test_concurrency_per_address_and_order() -> None:
    priority = Priority(PrioritySettings(concurrency=2, per_address=1, queue=10))
    entered: list[str] = []
    releases = [asyncio.Event() for _ in range(4)]
    tasks = [
        asyncio.create_task(_hold(priority, address, entered, release))
        for address, release in zip(("a", "a", "b", "c"), releases, strict=True)
    ]
    await asyncio.sleep(0.01)
    # the second request of address a waits; b goes ahead of it; c waits for a place
    assert entered == ["a", "b"]
    assert (priority.anonymous, priority.waiting) == (2, 2)
    releases[2].set()  # b leaves: the first in line whose address has room is c, not a
    await asyncio.sleep(0.01)
    assert entered == ["a", "b", "c"]
    releases[0].set()  # a leaves: its second request enters
    await asyncio.sleep(0.01)
    assert entered == ["a", "b", "c", "a"]
    for release in releases:
        release.set()
    await asyncio.gather(*tasks)
    assert (priority.anonymous, priority.waiting) == (0, 0)


async def test_a_full_line_is_refused_at_once() -> None:
    priority = Priority(PrioritySettings(concurrency=1, per_address=1, queue=1))
    release = asyncio.Event()
    entered: list[str] = []
    first = asyncio.create_task(_hold(priority, "a", entered, release))
    second = asyncio.create_task(_hold(priority, "b", entered, release))
    await asyncio.sleep(0.01)
    with pytest.raises(Busy) as refused:
        async with priority.turn(True, "c"):
            pass
    assert refused.value.to_graphql()["extensions"]["code"] == GATEWAY_BUSY
    assert priority.refused == 1
    release.set()
    await asyncio.gather(first, second)
    assert entered == ["a", "b"]


async def test_one_address_cannot_fill_the_line() -> None:
    """Beyond its share of the line an address is refused, while others still get in line."""
    priority = Priority(
        PrioritySettings(concurrency=1, per_address=1, queue=10, queue_per_address=2)
    )
    release = asyncio.Event()
    entered: list[str] = []
    held = [asyncio.create_task(_hold(priority, "a", entered, release)) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert (priority.anonymous, priority.waiting) == (1, 2)  # a is in, and has 2 waiting
    with pytest.raises(Busy):
        async with priority.turn(True, "a"):
            pass
    others = [asyncio.create_task(_hold(priority, "b", entered, release)) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert (priority.waiting, priority.refused) == (
        4,
        1,
    )  # b's two wait; only a's third was refused
    release.set()
    await asyncio.gather(*held, *others)
    assert sorted(entered) == ["a", "a", "a", "b", "b"]


async def test_callers_with_a_token_never_wait() -> None:
    priority = Priority(PrioritySettings(concurrency=1, per_address=1, queue=0))
    release = asyncio.Event()
    holder = asyncio.create_task(_hold(priority, "a", [], release))
    await asyncio.sleep(0.01)
    async with priority.turn(False, None):  # the line is full, yet in at once
        assert priority.with_token == 1
    release.set()
    await holder


async def test_a_client_that_leaves_the_line_frees_its_place() -> None:
    """A waiter cancelled (its client disconnected) just as a place frees up is neither
    admitted nor counted: the place goes to the next one (a leaked place would hold every
    later request of its address forever)."""
    priority = Priority(PrioritySettings(concurrency=1, per_address=1, queue=10))
    release, entered = asyncio.Event(), []
    holder = asyncio.create_task(_hold(priority, "a", entered, release))
    await asyncio.sleep(0.01)
    leaving = asyncio.create_task(_hold(priority, "a", entered, asyncio.Event()))
    staying = asyncio.create_task(_hold(priority, "b", entered, release))
    await asyncio.sleep(0.01)
    leaving.cancel()  # cancelled, and in the same turn of the loop a place frees up
    release.set()
    await asyncio.gather(holder, staying)
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert entered == ["a", "b"]
    assert (priority.anonymous, priority.waiting) == (0, 0)
    async with priority.turn(True, "a"):  # address a is not held back by a leaked place
        pass


async def test_an_anonymous_request_gives_way_for_at_most_the_yield_time() -> None:
    priority = Priority(PrioritySettings(yield_seconds=0.3))
    order: list[str] = []

    async def anonymous() -> None:
        async with priority.turn(True, "a"):
            await checkpoint()
            order.append("anonymous")

    async def with_token(seconds: float) -> None:
        async with priority.turn(False, None):
            await asyncio.sleep(seconds)
            order.append("token")

    # a short request with a token goes first
    await asyncio.gather(with_token(0.05), anonymous())
    assert order == ["token", "anonymous"]
    # a long one is not waited out: the anonymous request goes on after the yield time
    order.clear()
    started = time.monotonic()
    await asyncio.gather(with_token(1.0), anonymous())
    assert order == ["anonymous", "token"]
    assert time.monotonic() - started > 0.25
    # with nobody holding a token, a checkpoint costs nothing; outside a turn neither
    async with priority.turn(True, "a"):
        started = time.monotonic()
        await checkpoint()
        assert time.monotonic() - started < 0.05
    await checkpoint()


async def test_a_checkpoint_lets_a_request_that_just_arrived_go_first() -> None:
    """A request with a token whose bytes arrive while an anonymous one runs is started by the
    loop only after what was ready already: the checkpoint lets it get to its claim first."""
    priority = Priority(PrioritySettings(yield_seconds=1.0))
    order: list[str] = []

    async def with_token() -> None:
        with priority.claim():
            order.append("token starts")
            await asyncio.sleep(0.05)
            order.append("token ends")

    started: list[asyncio.Task[None]] = []
    async with priority.turn(True, "a"):
        # as the protocol does when a request's headers are in: a task, from a callback
        asyncio.get_running_loop().call_soon(
            lambda: started.append(asyncio.ensure_future(with_token()))
        )
        await checkpoint()
        order.append("anonymous goes on")
    await started[0]
    assert order == ["token starts", "token ends", "anonymous goes on"]


async def test_tokens_first_counts_a_request_with_credentials_until_it_is_answered() -> None:
    priority = Priority()
    seen: list[int] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(priority.with_token)

    middleware = TokensFirst(app, priority)  # type: ignore[arg-type]
    for headers, counted in [
        ([(b"authorization", b"Bearer x")], 1),
        ([(b"accept", b"*/*")], 0),
        ([(b"authorization", b"  ")], 0),  # empty: the authenticator's anonymous caller
        ([(b"authorization", b""), (b"authorization", b"Bearer x")], 0),  # the first one counts
    ]:
        seen.clear()
        await middleware({"type": "http", "headers": headers}, None, None)  # type: ignore[arg-type]
        assert seen == [counted], headers
        assert priority.with_token == 0
    with pytest.raises(RuntimeError):  # a failing request is counted out too

        async def failing(scope: object, receive: object, send: object) -> None:
            raise RuntimeError("boom")

        await TokensFirst(failing, priority)(  # type: ignore[arg-type]
            {"type": "http", "headers": [(b"authorization", b"Bearer x")]}, None, None
        )
    assert priority.with_token == 0


async def test_priority_off_admits_everyone() -> None:
    priority = Priority(PrioritySettings.parse("off"))
    async with priority.turn(True, "a"), priority.turn(True, "a"):
        assert priority.anonymous == 0
        await checkpoint()


def test_validation_pauses_while_callers_with_a_token_are_served() -> None:
    """The pause rule holds an anonymous validation in its thread while a request with a token
    is in flight (at most the yield time), and checks nothing itself."""
    schema = build_schema("type Query { a: Int b: Int }")
    document = parse("{ " + " ".join(f"f{i}: a" for i in range(200)) + " }")
    priority = Priority(PrioritySettings(yield_seconds=0.4))
    rules = (*specified_rules, priority.pause_rule())
    assert validate(schema, document, rules) == []
    assert validate(schema, parse("{ c }"), rules)  # still validates

    def validate_timed(out: list[float]) -> None:
        started = time.monotonic()
        validate(schema, document, rules)
        out.append(time.monotonic() - started)

    free: list[float] = []
    validate_timed(free)
    priority.with_token = 1  # as while a request with a token is in flight
    paused: list[float] = []
    thread = threading.Thread(target=validate_timed, args=(paused,))
    thread.start()
    thread.join(5)
    priority.with_token = 0
    assert 0.35 < paused[0] < 0.4 + free[0] + 0.5


def test_introspection_pauses_while_callers_with_a_token_are_served() -> None:
    """The Pauser as graphql-core execution middleware: a step per field resolved (an anonymous
    introspection runs in the admission thread with it)."""
    schema = build_schema("type Query { a: Int b: [Query] }")
    document = parse("{ __schema { types { name fields { name type { name } } } } }")
    priority = Priority(PrioritySettings(yield_seconds=0.3))
    free = execute(schema, document, middleware=[Pauser(priority)])
    assert isinstance(free, ExecutionResult) and free.errors is None
    priority.with_token = 1
    started = time.monotonic()
    paused = execute(schema, document, middleware=[Pauser(priority)])
    took = time.monotonic() - started
    priority.with_token = 0
    assert isinstance(paused, ExecutionResult) and paused.data == free.data
    assert 0.25 < took < 1.0


def test_a_paced_thread_hands_the_interpreter_over_every_50_microseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between two hand-overs a paced thread works at most _HAND_OVER seconds, so that the event
    loop waits that long for the interpreter, not the switch interval (a millisecond)."""
    clock = [100.0]
    handed_over: list[float] = []
    monkeypatch.setattr(priority_module.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(priority_module.os, "sched_yield", lambda: handed_over.append(clock[0]))
    pauser = Pauser(Priority())
    for _ in range(100):  # 2 ms of steps of 20 microseconds
        clock[0] += 0.00002
        pauser.step()
    assert 2_000 / 60 - 1 <= len(handed_over) <= 2_000 / 60 + 1  # every third step
    gaps = [b - a for a, b in itertools.pairwise(handed_over)]
    assert all(gap <= priority_module._HAND_OVER + 0.00002 + 1e-9 for gap in gaps)
