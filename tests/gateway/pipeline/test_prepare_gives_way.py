"""An anonymous request gives way to callers with a token between the steps that prepare its
operation (normalise, authorise, plan) when they took a while: an unseen operation's steps
together hold the event loop some 3 ms at worst, each about half of that."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import gateway.pipeline.handler as handler_module
from auth.principal import ANONYMOUS
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.limits.priority import Priority, PrioritySettings
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import SUPERGRAPH

SG = load_supergraph(SUPERGRAPH.read_text())
QUERY = "{ municipalities { name province } }"


@pytest.fixture
async def handler() -> AsyncIterator[RequestHandler]:
    client = SubgraphClient()  # never called: nothing here gets to execution
    yield RequestHandler(SG, Executor(client, {}))
    await client.aclose()


def _context(handler: RequestHandler) -> RequestContext:
    ctx = RequestContext(QUERY, None, {}, ANONYMOUS)
    ctx.document = handler.parse_validate.admission.document(QUERY, handler.limits_for(ctx))
    return ctx


async def _prepared_while_a_token_is_in_flight(
    handler: RequestHandler, stretch: float, monkeypatch: pytest.MonkeyPatch
) -> bool:
    """Whether the anonymous request's operation got prepared while a request with a token was
    in flight (it gives way for up to 5 s)."""
    monkeypatch.setattr(handler_module, "_STRETCH", stretch)
    priority = Priority(PrioritySettings(yield_seconds=5.0))
    async with priority.turn(True, "192.0.2.1"):
        ctx = _context(handler)
        with priority.claim():  # a request with a token, in flight
            preparing = asyncio.ensure_future(handler.prepare_giving_way(ctx))
            await asyncio.sleep(0.2)
            done_meanwhile = preparing.done()
        prepared = await preparing
    assert prepared is ctx and ctx.plan is not None
    return done_meanwhile


async def test_steps_that_took_a_while_give_way(
    handler: RequestHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every step counts as long: the request waits for the one with a token after the first
    assert not await _prepared_while_a_token_is_in_flight(handler, 0.0, monkeypatch)


async def test_quick_steps_go_on(handler: RequestHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    # none counts as long (answers from the caches): no waiting
    assert await _prepared_while_a_token_is_in_flight(handler, 10.0, monkeypatch)


async def test_callers_with_a_token_never_give_way(
    handler: RequestHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler_module, "_STRETCH", 0.0)
    priority = Priority(PrioritySettings(yield_seconds=5.0))
    with priority.claim():  # another request with a token in flight; this one has a token too
        ctx = _context(handler)
        prepared = await asyncio.wait_for(handler.prepare_giving_way(ctx), 1.0)
    assert prepared is ctx and ctx.plan is not None
