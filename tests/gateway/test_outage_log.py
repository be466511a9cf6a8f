"""The outage log's rhythm, on a clock the test moves: down once, a reminder at most every
`remind_every` seconds however many calls fail, back once; one line each, no traceback."""

from __future__ import annotations

import logging

import pytest

from gateway.outage_log import OutageLog, short_error

LOGGER = "rugzak.test-outage"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_long_outage_is_a_few_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    clock = Clock()
    outage = OutageLog(logging.getLogger(LOGGER), "cache redis 127.0.0.1:1", clock=clock)
    outage.answered()  # nothing to say while it serves
    error = ConnectionError("Error 111 connecting to 127.0.0.1:1.\nConnection refused.")
    for i in range(95 * 10):  # 95 s of failures, ten a second
        clock.now = 1000.0 + i / 10
        outage.failed(error)
    assert outage.down and outage.failures == 950
    clock.now = 1095.0
    outage.answered()
    outage.answered()
    told = [r.getMessage() for r in caplog.records]
    assert told[0] == (
        "cache redis 127.0.0.1:1 is down: ConnectionError: Error 111 connecting to 127.0.0.1:1."
    )
    reminders = [line.split(" (")[0] for line in told[1:4]]
    assert reminders == ["cache redis 127.0.0.1:1 is still down"] * 3
    assert "(30 s, " in told[1] and "(60 s, " in told[2] and "(90 s, " in told[3]
    assert told[4] == "cache redis 127.0.0.1:1 is back after 95.0 s down"
    assert len(told) == 5
    assert not any(r.exc_info for r in caplog.records)
    assert not outage.down and outage.last_error is None


def test_one_slow_call_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    outage = OutageLog(logging.getLogger(LOGGER), "cache redis 127.0.0.1:1", clock=Clock())
    outage.failed(TimeoutError())
    assert outage.down and not caplog.records
    outage.answered()
    told = [r.getMessage() for r in caplog.records]
    assert told == ["cache redis 127.0.0.1:1 failed once and answered again: TimeoutError"]


def test_short_error() -> None:
    assert short_error(TimeoutError()) == "TimeoutError"
    assert short_error(OSError("  first\nsecond")) == "OSError: first"
    assert short_error("no answer for 2.0s") == "no answer for 2.0s"
    assert len(short_error(ValueError("x" * 1000))) < 220
