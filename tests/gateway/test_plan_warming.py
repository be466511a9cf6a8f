"""A new supergraph's handler plans ahead the operations answered most recently with data, and
never one that only failed or was refused; within a count and a time box."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
import weakref
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.errors import SupergraphError
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.http.app import GatewayApp
from gateway.operation_cache import OperationCaches, SentOperation
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import load_supergraph

SDL = (Path(__file__).parent / "supergraph_reviews.graphql").read_text()
ANSWERED = [
    "{ __typename }",
    "query Typed($t: Boolean!) { __typename @include(if: $t) }",
]


def unreachable() -> dict[str, str]:
    """Every subgraph at a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    graphs = load_supergraph(SDL).graphs.values()
    return {g.name: f"http://127.0.0.1:{port}/graphql" for g in graphs}


async def test_only_answered_operations_are_planned_ahead() -> None:
    client = SubgraphClient()
    caches = OperationCaches()
    # no subgraph is reachable: only what the gateway answers itself comes back with data
    old = RequestHandler(load_supergraph(SDL), Executor(client, unreachable()), caches=caches)
    try:
        for _ in range(2):  # an operation answered once is not planned ahead
            assert (await old.handle(RequestContext(ANSWERED[0]))).body["data"]
            assert (await old.handle(RequestContext(ANSWERED[1], None, {"t": True}))).body["data"]
        for _ in range(2):
            refused = await old.handle(RequestContext("{ me { nosuchfield } }"))
            assert refused.body["data"] is None
            failed = await old.handle(RequestContext("{ me { name } }"))
            assert failed.body["data"] in (None, {"me": None}) and failed.body["errors"]
        assert [sent.query for sent in caches.answered.recent(10)] == ANSWERED[::-1]

        # the "new" supergraph: same types, another text (so another schema hash)
        new = RequestHandler(load_supergraph(SDL + "\n# v2\n"), Executor(client, {}), caches=caches)
        assert new.schema_hash != old.schema_hash
        assert await new.warm(limit=10, seconds=5.0) == 2
        plan_misses = caches.plans.misses
        new.prepare(RequestContext(ANSWERED[0]))
        new.prepare(RequestContext(ANSWERED[1], None, {"t": True}))
        assert caches.plans.misses == plan_misses  # both plans were there already
        # other @include: not answered, not warmed
        new.prepare(RequestContext(ANSWERED[1], None, {"t": False}))
        assert caches.plans.misses == plan_misses + 1
        assert await new.warm(limit=1, seconds=5.0) == 1  # the count holds
        assert await new.warm(limit=10, seconds=0.0) == 0  # and the time box
    finally:
        await client.aclose()


async def test_a_swap_does_not_wait_for_the_warm_up(tmp_path: Path) -> None:
    source = tmp_path / "supergraph.graphql"
    source.write_text(SDL)
    app = GatewayApp(GatewayConfig(supergraph=str(source), warm_operations=500, warm_seconds=30))
    try:
        for n in range(300):
            for _ in range(2):  # answered twice: planned ahead
                app.operation_caches.record_answered(
                    SentOperation(f"query Q{n} {{ __typename }}", None)
                )
        await app.swap_supergraph(SDL + "\n# v2\n")
        warming = app.warm_up.task
        assert warming is not None and not warming.done()  # swapped, still warming
        assert app.supergraph.sdl.endswith("# v2\n")
        # a newer swap cancels the warm-up of the one it replaces
        await app.swap_supergraph(SDL + "\n# v3\n")
        with pytest.raises(asyncio.CancelledError):
            await warming
        assert await app.warm_up.task == 300  # type: ignore[misc]
    finally:
        await app.warm_up.stop()
        await app.client.aclose()


async def test_a_swapped_out_supergraph_is_collected_and_a_bad_one_changes_nothing(
    tmp_path: Path,
) -> None:
    source = tmp_path / "supergraph.graphql"
    source.write_text(SDL)
    app = GatewayApp(GatewayConfig(supergraph=str(source)))
    try:
        await app.swap_supergraph(SDL + "\n# v2\n")
        old = weakref.ref(app.supergraph.api_schema.type_map["Query"])  # in cycles: GC only
        await app.swap_supergraph(SDL + "\n# v3\n")  # as large as the one it replaces: collected
        assert old() is None
        interval = sys.getswitchinterval()
        with pytest.raises(SupergraphError):
            await app.swap_supergraph("type Query {")
        assert app.supergraph.sdl.endswith("# v3\n") and app.reload_error
        assert gc.isenabled() and sys.getswitchinterval() <= interval
    finally:
        await app.warm_up.stop()
        await app.client.aclose()
