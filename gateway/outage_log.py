"""What the log says while a dependency (Redis, the registry's database) is away.

A backend that is down fails every call, and every poll or request would otherwise log it,
often with a traceback: thousands of lines that hide everything else. Instead: one line when it
goes down (the error's class and the first line of its message), at most one reminder every
`remind_every` seconds while it stays down, and one line when it answers again.

"Down" is said at the second failure in a row: a single slow call (a timeout on a busy
machine) followed by an answer is one line ("failed once"), not a down line and a back line.
A caller that knows for certain (a circuit breaker that opened) says `went_down` at once, and
may name the states and the calls in its own words (open, closed, refused calls).

Callers report each outcome (`failed`, `answered`); the calls are cheap when nothing changes.
Thread-safe: the registry's store reports from its own thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

REMIND_EVERY = 30.0  # seconds between "still down" lines
_MESSAGE_CHARS = 200


def short_error(error: BaseException | str) -> str:
    """`Class: first line of the message`, at most a couple of hundred characters."""
    if isinstance(error, str):
        text, name = error, ""
    else:
        text, name = str(error), error.__class__.__name__
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(first) > _MESSAGE_CHARS:
        first = first[: _MESSAGE_CHARS - 1] + "…"
    if not name:
        return first or "error"
    return f"{name}: {first}" if first else name


class OutageLog:
    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        meanwhile: str = "",
        remind_every: float = REMIND_EVERY,
        clock: Callable[[], float] = time.monotonic,
        states: tuple[str, str] = ("down", "back"),
        calls: str = "failed calls",
    ) -> None:
        self.log = log
        self.what = what  # e.g. "cache redis 127.0.0.1:6379": never credentials
        self.meanwhile = f"; {meanwhile}" if meanwhile else ""  # what the gateway does instead
        self.remind_every = remind_every
        self.down_word, self.back_word = states
        self.calls = calls  # what the reminder counts
        self._clock = clock
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.failures = 0  # while down
        self._reminded = 0.0
        self._announced = False  # whether "is down" was said for this outage
        self.last_error: str | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException | str) -> None:
        message = short_error(error)
        now = self._clock()
        with self._lock:
            self.last_error = message
            if self.down_since is None:  # perhaps a blip: said if the next call fails too
                self.down_since = now
                self.failures = 1
                self._announced = False
                return
            self.failures += 1
            if not self._announced:
                self._announce(now, message)
            elif now - self._reminded >= self.remind_every:
                self._reminded = now
                self.log.warning(
                    "%s is still %s (%.0f s, %d %s): %s",
                    self.what,
                    self.down_word,
                    now - self.down_since,
                    self.failures,
                    self.calls,
                    message,
                )

    def went_down(self, error: BaseException | str) -> None:
        """Down for certain: said now, not at the next failure; the count starts at 0."""
        message = short_error(error)
        now = self._clock()
        with self._lock:
            self.last_error = message
            if self.down_since is not None and self._announced:
                return
            self.down_since = now
            self.failures = 0
            self._announce(now, message)

    def _announce(self, now: float, message: str) -> None:
        self._announced = True
        self._reminded = now
        self.log.warning("%s is %s: %s%s", self.what, self.down_word, message, self.meanwhile)

    def answered(self) -> None:
        if self.down_since is None:  # the common case: no lock, nothing to say
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds = self._clock() - self.down_since
            if self._announced:
                self.log.warning(
                    "%s is %s after %.1f s %s", self.what, self.back_word, seconds, self.down_word
                )
            else:
                self.log.warning(
                    "%s failed once and answered again: %s", self.what, self.last_error
                )
            self.down_since = None
            self.last_error = None
