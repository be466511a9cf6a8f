"""Callers with a token first: anonymous requests take turns and give way.

One process serves everyone from one event loop, so a request's latency is its own work plus
whatever other work runs before it. Anonymous callers are the ones nobody can hold to account
(their address is all we know of them), and each limit still admits operations that take
milliseconds of CPU each. So that four anonymous clients cannot stretch a citizen's request
many times over:

- at most `concurrency` anonymous requests are handled at once, at most `per_address` of them
  from one address; the others wait in one line (fair across addresses), and beyond `queue`
  waiting (`queue_per_address` from one address) they are refused at once with 503
  GATEWAY_BUSY;
- at each checkpoint of its way (before parsing, after validation, around execution, after each
  subgraph answer), an anonymous request waits while requests with a token are in flight, at
  most `yield_seconds` each time, so that it is slowed, never starved;
- a request with a token counts as in flight from its arrival (TokensFirst, before its token is
  verified or its body read) until its answer is sent, and a checkpoint first lets requests that
  just arrived get that far: the loop otherwise runs the anonymous request's next stretch before
  it has even read them;
- parsing and validation of an unseen anonymous operation (and the shaping of its answer) run
  in their own thread and pause there too (`Pauser`, `pause_rule`): a thread that holds the
  interpreter slows the event loop even when it is not the loop's turn. Until it pauses, it
  hands the interpreter over every 50 microseconds: the loop would otherwise wait up to the
  switch interval for it at each of its steps (measured under unseen hostile operations: a
  citizen's profile query went from a p90 of 7.8 ms and a p99 of 11.4 ms, idle 2.4 and 4.2, to
  1.9 and 3.9 ms, idle 1.7 and 3.1: the same run's idle figures each time).

Requests with a token are never queued here: rate limits bound them, per principal.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ValidationContext, ValidationRule
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PrometheusCollector
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import graphql_error
from gateway.settings_text import Number, read_numbers

GATEWAY_BUSY = "GATEWAY_BUSY"
# the longest a validation pauses in one go before it looks again (seconds)
_PAUSE_STEP = 0.002
# the longest a paced thread holds the interpreter while the event loop may wait for it (seconds)
_HAND_OVER = 0.00005
# nodes validated or fields resolved between two looks at the callers with a token
_STEPS_PER_LOOK = 32
# turns of the event loop a checkpoint lets pass first: a request whose bytes arrived is read
# in one (the protocol starts its task), its task runs up to TokensFirst in the next (asyncio
# queues what arrived behind what was ready already, hence one more)
_ARRIVAL_TURNS = 3


_USAGE = "priority is off, or concurrency=N,per-address=N,queue=N,queue-per-address=N,yield=SECONDS"
_NUMBERS = {
    "concurrency": Number("concurrency", int, 1),
    "per-address": Number("per_address", int, 1),
    "queue": Number("queue", int, 0),
    "queue-per-address": Number("queue_per_address", int, 0),
    "yield": Number("yield_seconds", float, 0, wants="seconds"),
}


@dataclass(frozen=True, slots=True)
class PrioritySettings:
    enabled: bool = True
    concurrency: int = 2
    per_address: int = 1
    queue: int = 256
    # of the line, how many may wait from one address: one address with many connections
    # cannot fill it and turn everybody else away (half of it: many citizens may share one
    # address behind a carrier's NAT, and a burst from one, e.g. a test suite, still waits)
    queue_per_address: int = 128
    yield_seconds: float = 0.25

    @classmethod
    def parse(cls, text: str) -> PrioritySettings:
        """`off`, or comma-separated `concurrency=N`, `per-address=N`, `queue=N`,
        `queue-per-address=N`, `yield=SECONDS` (the others keep their defaults)."""
        text = text.strip().lower()
        if text in ("off", "none"):
            return cls(enabled=False)
        settings = dataclasses.replace(cls(), **read_numbers(text, _NUMBERS, _USAGE))
        if settings.per_address > settings.concurrency:
            raise ValueError("per-address cannot exceed concurrency")
        return settings

    def __str__(self) -> str:
        if not self.enabled:
            return "off"
        return (
            f"concurrency={self.concurrency},per-address={self.per_address},"
            f"queue={self.queue},queue-per-address={self.queue_per_address},"
            f"yield={self.yield_seconds:g}"
        )


class Busy(Exception):
    """The line of anonymous requests is full."""

    def to_graphql(self) -> dict[str, Any]:
        message = "The gateway is busy with anonymous requests; try again shortly, or send a token."
        return graphql_error(message, GATEWAY_BUSY)


# the Priority an anonymous request of this task answers to (None: a caller with a token)
_CURRENT: contextvars.ContextVar[Priority | None] = contextvars.ContextVar(
    "rugzak_priority", default=None
)


def current() -> Priority | None:
    """The Priority the running request gives way to: set only for anonymous requests."""
    return _CURRENT.get()


async def checkpoint() -> None:
    """Where an anonymous request waits while callers with a token are in flight."""
    priority = _CURRENT.get()
    if priority is not None:
        await priority.give_way()


class Priority:
    def __init__(self, settings: PrioritySettings | None = None) -> None:
        self.settings = settings or PrioritySettings()
        self.with_token = 0  # requests with a token in flight
        self.anonymous = 0  # anonymous requests being handled (not waiting)
        self._clear = asyncio.Event()  # no request with a token in flight
        self._clear.set()
        self._idle = asyncio.Event()  # no request at all in flight
        self._idle.set()
        self._holding = False  # anonymous requests wait for a quiet moment to pass
        self._by_address: dict[str, int] = {}
        self._line: deque[tuple[str, asyncio.Future[None]]] = deque()
        self.refused = 0  # for the metrics
        self._pause_rule: type[ValidationRule] | None = None

    @property
    def waiting(self) -> int:
        return len(self._line)

    @contextlib.asynccontextmanager
    async def turn(self, anonymous: bool, address: str | None) -> AsyncIterator[None]:
        """The request's turn: at once with a token; else when a place is free (Busy when
        the line is full)."""
        if not self.settings.enabled:
            yield
            return
        if not anonymous:
            with self.claim():
                yield
            return
        key = address or ""
        await self._enter(key)
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)
            self._leave(key)

    @contextlib.contextmanager
    def claim(self) -> Iterator[None]:
        """A request with a token in flight meanwhile."""
        self.with_token += 1
        self._clear.clear()
        self._idle.clear()
        try:
            yield
        finally:
            self.with_token -= 1
            if self.with_token == 0:
                self._clear.set()
                if self.anonymous == 0:
                    self._idle.set()

    @property
    def holding(self) -> bool:
        """Whether a quiet moment is awaited: what is in flight then goes on without pausing,
        so that the moment comes soon."""
        return self._holding

    async def give_way(self) -> None:
        if self._holding or self.settings.yield_seconds <= 0:
            return
        for _ in range(_ARRIVAL_TURNS):  # requests that just arrived get to TokensFirst
            await asyncio.sleep(0)
        if not self.with_token or self._holding:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.yield_seconds
        while self.with_token and not self._holding:
            left = deadline - loop.time()
            if left <= 0:
                return
            try:  # asyncio.timeout: wait_for of Python 3.11 can swallow a cancellation
                async with asyncio.timeout(left):
                    await self._clear.wait()
            except TimeoutError:
                return

    @contextlib.asynccontextmanager
    async def quiet_moment(self, longest: float) -> AsyncIterator[None]:
        """A moment without requests in flight for work that stops the process (the garbage
        collector's passes): anonymous requests are held back meanwhile, and what is in flight
        finishes; at most `longest` seconds, then the moment comes anyway."""
        if not self.settings.enabled:
            yield
            return
        self._holding = True
        if self.with_token:  # wakes whoever gives way now (they see `holding` and go on)
            self._clear.set()
            self._clear.clear()
        try:
            if not self._idle.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(longest):
                        await self._idle.wait()
            yield
        finally:
            self._holding = False
            self._wake()

    def pause_rule(self) -> type[ValidationRule]:
        """A validation rule that pauses the validating thread while requests with a token
        are in flight (at most the yield time per operation): it releases the interpreter
        to the event loop instead of competing for it."""
        if self._pause_rule is None:
            self._pause_rule = _pause_rule(self)
        return self._pause_rule

    def _may_enter(self, key: str) -> bool:
        settings = self.settings
        return (
            not self._holding
            and self.anonymous < settings.concurrency
            and self._by_address.get(key, 0) < settings.per_address
        )

    async def _enter(self, key: str) -> None:
        # whoever waits in line waits for a place of their own address or for any place
        # (_wake admits the rest at once): a request that may enter goes ahead
        if self._may_enter(key):
            self._admit(key)
            return
        line, settings = self._line, self.settings
        if len(line) >= settings.queue or (
            len(line) >= settings.queue_per_address
            and sum(1 for waiting, _ in line if waiting == key) >= settings.queue_per_address
        ):
            self.refused += 1
            raise Busy()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (key, waiter)
        self._line.append(entry)
        try:
            await waiter  # _wake admits it before setting the result
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._leave(key)  # admitted, then cancelled before it ran
            elif entry in self._line:
                self._line.remove(entry)
            raise

    def _admit(self, key: str) -> None:
        self.anonymous += 1
        self._idle.clear()
        self._by_address[key] = self._by_address.get(key, 0) + 1

    def _leave(self, key: str) -> None:
        self.anonymous -= 1
        left = self._by_address[key] - 1
        if left:
            self._by_address[key] = left
        else:
            del self._by_address[key]
        if self.anonymous == 0 and self.with_token == 0:
            self._idle.set()
        self._wake()

    def _wake(self) -> None:
        """Admits the first ones in line whose address has room (the others keep their
        place): one busy address never holds up the rest."""
        for entry in list(self._line):
            if self.anonymous >= self.settings.concurrency:
                return
            key, waiter = entry
            if waiter.done():  # cancelled (the client left): its task takes it out of line
                self._line.remove(entry)
            elif self._may_enter(key):
                self._line.remove(entry)
                self._admit(key)
                waiter.set_result(None)


class Pauser:
    """Pauses the thread it runs in while requests with a token are in flight, looking every
    few steps, for at most the yield time in all: the thread releases the interpreter to the
    event loop instead of competing for it. And every `_HAND_OVER` seconds of its work it hands
    the interpreter over to the event loop if that waits for it: otherwise the loop waits up to
    the switch interval to read a request that just arrived, and a thread that is not pausing
    yet stretches every step of the loop's by as much."""

    def __init__(self, priority: Priority) -> None:
        self.priority = priority
        self.steps = 0
        self.paused = 0.0
        self.handed_over = time.perf_counter()

    def step(self) -> None:
        self.steps += 1
        now = time.perf_counter()
        if now - self.handed_over > _HAND_OVER:
            # releases the interpreter and the CPU: a thread waiting for either takes it now
            os.sched_yield()
            self.handed_over = time.perf_counter()
        priority = self.priority
        if self.steps % _STEPS_PER_LOOK or not priority.with_token or priority.holding:
            return
        budget = priority.settings.yield_seconds - self.paused
        start = time.monotonic()
        while priority.with_token and not priority.holding and time.monotonic() - start < budget:
            time.sleep(_PAUSE_STEP)
        self.paused += time.monotonic() - start

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        """As graphql-core execution middleware: a step per field resolved."""
        self.step()
        return next_(root, info, **args)


def _pause_rule(priority: Priority) -> type[ValidationRule]:
    class GiveWay(ValidationRule):
        """Checks nothing: a step per node visited."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.pauser = Pauser(priority)

        def enter(self, *_args: object) -> None:
            self.pauser.step()

    return GiveWay


class TokensFirst:
    """ASGI middleware: a request with credentials (a non-empty Authorization header, the one
    the authenticator reads) counts as a request with a token from its arrival until its answer
    is sent, so that anonymous requests give way to it meanwhile. One whose token turns out to
    be invalid counts only until it is refused, before its body is read: a flood of made-up
    tokens slows anonymous callers at most as much as real ones would, never callers with a
    token."""

    def __init__(self, app: ASGIApp, priority: Priority) -> None:
        self.app = app
        self.priority = priority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.priority.settings.enabled:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"authorization":  # the first one, as Starlette's headers.get reads it
                if value.strip():
                    with self.priority.claim():
                        await self.app(scope, receive, send)
                    return
                break
        await self.app(scope, receive, send)


class PriorityMetrics(PrometheusCollector):
    """The line of anonymous requests, read at each scrape."""

    def __init__(self, priority: Priority) -> None:
        self.priority = priority

    def collect(self) -> Iterator[Metric]:
        priority = self.priority
        yield GaugeMetricFamily(
            "rugzak_anonymous_in_service", "Anonymous requests being handled", priority.anonymous
        )
        yield GaugeMetricFamily(
            "rugzak_anonymous_waiting",
            "Anonymous requests waiting for their turn",
            priority.waiting,
        )
        yield CounterMetricFamily(
            "rugzak_anonymous_busy",
            "Anonymous requests refused with GATEWAY_BUSY: the line was full",
            priority.refused,
        )
