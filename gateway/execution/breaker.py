"""A circuit breaker per subgraph: after enough failed or slow calls it opens, and the gateway
stops calling that subgraph for a while (its fields fail at once, SUBREQUEST_CIRCUIT_OPEN); then
it lets a trial call through (half open) and closes again if the trial succeeds.

Latency counts while a call is still waiting: a call becomes "slow" once it has waited `slow`
seconds (a watchdog looks eight times per `slow`), not when it finally ends. That is what lets a
frozen subgraph (SIGSTOP, a dead network path) open the breaker within about `slow` seconds
instead of after the full timeout.
When the breaker opens, the calls still waiting on that subgraph are released at once
(`Call.release`), so their callers get a partial answer now rather than at the timeout.

Outcomes only count in the state they were admitted in: a call let through before the breaker
opened and answered after never closes it by accident, and the calls it released do not count
as failures of the subgraph.

Runs on one event loop: no locks.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.execution.window import RollingCounts


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    # consecutive failed or slow calls that open it (0: this rule is off)
    failures: int = 5
    # the share of failed or slow calls over `window` seconds that opens it (0: this rule is off)
    error_rate: float = 0.5
    # ... once the window holds at least this many calls
    min_calls: int = 20
    window: float = 10.0
    # a call that has taken this long counts as slow, even while it is still waiting (0: never)
    # (2 s: a subgraph that stalls for a second on a busy machine does not open it; a frozen one
    # opens it in 2 to 2.25 s)
    slow: float = 2.0
    # seconds open before trial calls go through (half open)
    open_for: float = 5.0
    # trial calls let through when half open; all of them must succeed to close it
    trials: int = 1

    @property
    def enabled(self) -> bool:
        return self.failures > 0 or self.error_rate > 0


class Call:
    """One call the breaker let through; end it with `CircuitBreaker.done`."""

    __slots__ = ("era", "lag", "release", "slow", "started", "trial")

    def __init__(self, era: int, trial: bool, started: float, lag: float = 0.0) -> None:
        self.era = era
        self.trial = trial
        self.started = started
        self.lag = lag  # the breaker's lag total when the call started
        self.slow = False
        # set by the caller: stops the call's wait now (the breaker opened under it)
        self.release: Callable[[], None] | None = None


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State, State], None] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._on_change = on_change
        self._state = State.CLOSED
        self._era = 0  # bumped at every change of state
        self.opened_at = 0.0
        self.opened = 0  # times it opened since start
        self._consecutive = 0
        self._window = RollingCounts(settings.window)
        self._trials = 0  # trial calls let through in this half-open era
        self._trial_successes = 0
        # calls under way, oldest first; a watchdog marks those that have waited `slow` seconds
        # (one timer per breaker, not one per call: this runs on every subgraph call)
        self._in_flight: dict[Call, None] = {}
        self._watchdog: asyncio.TimerHandle | None = None
        self._due = 0.0  # when the watchdog should run
        # seconds the watchdog ran late since start: the event loop was busy with other work
        # (planning, shaping), and a call's wait during that time is the gateway's, not the
        # subgraph's
        self._lag = 0.0

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() >= self.opened_at + self.settings.open_for:
            self._change(State.HALF_OPEN)
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when it is not open)."""
        if self.state is not State.OPEN:
            return 0.0
        return max(0.0, self.opened_at + self.settings.open_for - self._clock())

    def totals(self) -> tuple[int, int]:
        """(good, bad) calls over the window."""
        return self._window.totals(self._clock())

    def admit(self) -> Call | None:
        """A call may go out (returned), or not: the breaker is open, or half open with its
        trials already under way (None)."""
        if not self.settings.enabled:
            return Call(self._era, False, 0.0)
        state = self.state
        if state is State.OPEN:
            return None
        trial = state is State.HALF_OPEN
        if trial:
            if self._trials >= self.settings.trials:
                return None
            self._trials += 1
        call = Call(self._era, trial, self._clock(), self._lag)
        self._in_flight[call] = None
        if self.settings.slow > 0 and self._watchdog is None:
            self._watch_soon()
        return call

    def done(self, call: Call, ok: bool | None) -> None:
        """The call ended: `ok` True (an answer), False (the subgraph failed), None (it says
        nothing about the subgraph: our own limits stopped it, or the breaker released it)."""
        self._in_flight.pop(call, None)
        if call.era != self._era or call.slow or not self.settings.enabled:
            return  # another state's call, or already counted when it became slow
        if ok is None:
            if call.trial:
                self._trials -= 1  # its place goes to the next caller
            return
        if ok:
            self._good()
        else:
            self._bad()

    def probe(self, ok: bool) -> None:
        """What an active check of the subgraph found (it answered, or it is unreachable or
        unresponsive). A failure counts like a failed call; an answer while open lets trial
        calls through at once instead of at the end of `open_for`."""
        if not self.settings.enabled:
            return
        state = self.state
        if ok:
            if state is State.OPEN:
                self._change(State.HALF_OPEN)
        elif state is not State.OPEN:
            self._bad()

    def _watch_soon(self) -> None:
        # an eighth of `slow` between looks: a call is found slow within 1.125 times `slow`
        loop = asyncio.get_running_loop()
        self._due = self._clock() + self.settings.slow / 8
        self._watchdog = loop.call_later(self.settings.slow / 8, self._watch)

    def _watch(self) -> None:
        self._watchdog = None
        now = self._clock()
        self._lag += max(0.0, now - self._due)
        for call in list(self._in_flight):
            if call.slow:
                continue
            if now - call.started - (self._lag - call.lag) < self.settings.slow:
                continue  # not slow yet (a younger call behind it may have had less lag)
            call.slow = True
            self._bad()
            if self._state is State.OPEN:
                break  # it released them all
        if self._in_flight:
            self._watch_soon()

    def _good(self) -> None:
        if self._state is State.HALF_OPEN:
            self._trial_successes += 1
            if self._trial_successes >= self.settings.trials:
                self._change(State.CLOSED)
            return
        self._consecutive = 0
        self._window.add(self._clock(), False)

    def _bad(self) -> None:
        if self._state is State.HALF_OPEN:
            self._open()
            return
        if self._state is State.OPEN:
            return
        now = self._clock()
        self._consecutive += 1
        self._window.add(now, True)
        s = self.settings
        if s.failures > 0 and self._consecutive >= s.failures:
            self._open()
            return
        if s.error_rate > 0:
            good, bad = self._window.totals(now)
            if good + bad >= s.min_calls and bad >= s.error_rate * (good + bad):
                self._open()

    def _open(self) -> None:
        self.opened_at = self._clock()
        self.opened += 1
        self._change(State.OPEN)
        waiting, self._in_flight = self._in_flight, {}
        for call in waiting:  # their callers answer now, with this subgraph's part missing
            if call.release is not None:
                call.release()

    def _change(self, state: State) -> None:
        before, self._state = self._state, state
        self._era += 1
        self._consecutive = 0
        self._trials = self._trial_successes = 0
        if state is State.CLOSED:
            self._window.clear()  # a fresh start: what happened before it opened is history
        if self._on_change is not None:
            self._on_change(before, state)
