"""The garbage collector's passes (gateway/collector.py): Python's own full passes off while
serving, small passes over what is not frozen, full passes every so often, none during a
supergraph load, and everything as it was after stop."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from gateway.collector import LOCK, Collector, CollectorSettings
from gateway.limits.priority import Priority


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A pair of objects that only the cyclic collector frees; a weak reference to one."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_settings_parse_and_print() -> None:
    assert CollectorSettings.parse("") == CollectorSettings()
    assert str(CollectorSettings()) == "interval=1,full=600"
    assert CollectorSettings.parse("auto").enabled is False
    assert CollectorSettings.parse("interval=0.5") == CollectorSettings(interval=0.5)
    assert CollectorSettings.parse("full=60,interval=2") == CollectorSettings(True, 2.0, 60.0)
    for wrong, says in [
        ("every=3", "interval=SECONDS"),
        ("interval=soon", "wants seconds"),
        ("interval=0", "too small: 0 \\(more than 0\\)"),
        ("full=inf", "wants seconds"),
        ("interval=10,full=5", "cannot be shorter"),
    ]:
        with pytest.raises(ValueError, match=says):
            CollectorSettings.parse(wrong)


async def test_passes_collect_what_the_thresholds_no_longer_do(restored: None) -> None:
    thresholds = gc.get_threshold()
    collector = Collector(CollectorSettings(interval=3600, full=7200))
    collector.start()
    try:
        young, middle, oldest = gc.get_threshold()
        assert (young, middle) == thresholds[:2] and oldest >= 1 << 30
        assert gc.get_freeze_count() > 0
        # garbage made while serving goes in the next small pass
        gone = cycle()
        assert collector.collect()
        assert gone() is None
        assert collector.passes.young == 1 and collector.passes.full == 0
        # what lives through a pass is frozen: later garbage among it waits for a full pass
        alive = [Node() for _ in range(10)]
        for node in alive:
            node.other = node
        kept = [weakref.ref(node) for node in alive]
        collector.collect()
        del alive, node
        collector.collect()
        assert all(k() is not None for k in kept)  # frozen: not walked by a small pass
        assert collector.collect(full=True)
        assert collector.passes.full == 1
        assert all(k() is None for k in kept)
        assert collector.passes.longest > 0
        assert collector.passes.collected >= 2 and collector.passes.collected_full >= 10
    finally:
        await collector.stop()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


async def test_a_full_pass_every_full_seconds(restored: None) -> None:
    collector = Collector(CollectorSettings(interval=3600, full=0.3))
    collector.start()
    try:
        assert collector.collect(full=False) and collector.passes.full == 0
        await asyncio.sleep(0.35)
        collector.collect()
        assert collector.passes.full == 1
        collector.collect()  # the next one is due 0.3 s later
        assert (collector.passes.young, collector.passes.full) == (2, 1)
    finally:
        await collector.stop()


def test_no_pass_during_a_supergraph_load(restored: None) -> None:
    loading = True
    collector = Collector(CollectorSettings(), loading=lambda: loading)
    assert not collector.collect()
    loading = False
    with LOCK:  # a load's own freeze under way
        assert not collector.collect()
    assert collector.collect()


async def test_a_pass_waits_for_callers_with_a_token(restored: None) -> None:
    priority = Priority()
    collector = Collector(CollectorSettings(interval=0.05, full=3600), priority.quiet_moment)
    collector.start()
    try:
        async with priority.turn(False, None):
            await asyncio.sleep(0.3)
            assert collector.passes.young == 0  # waiting for the request to end (at most 1 s)
        await asyncio.sleep(0.2)
        assert collector.passes.young >= 1
    finally:
        await collector.stop()


async def test_auto_leaves_python_alone(restored: None) -> None:
    thresholds = gc.get_threshold()
    collector = Collector(CollectorSettings.parse("auto"))
    collector.start()
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
    await collector.stop()


async def test_stop_while_a_pass_waits_for_a_quiet_moment(restored: None) -> None:
    """The request the pass waits for ends in the same turn of the loop as the stop: Python
    3.11's wait_for would swallow that cancellation, and shutdown hung (a SIGTERM test found
    it)."""
    priority = Priority()
    collector = Collector(CollectorSettings(interval=0.05, full=3600), priority.quiet_moment)
    collector.start()

    async def request() -> None:
        async with priority.turn(False, None):
            await asyncio.sleep(100)

    held = asyncio.create_task(request())
    await asyncio.sleep(0.2)  # the pass waits for the request to end
    held.cancel()
    started = time.monotonic()
    await asyncio.wait_for(collector.stop(), 3)
    assert time.monotonic() - started < 1.0
    with pytest.raises(asyncio.CancelledError):
        await held
