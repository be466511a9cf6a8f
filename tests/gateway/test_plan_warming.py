"""A new supergraph's handler starts with the previous one's recent operations planned."""

from __future__ import annotations

from pathlib import Path

from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.operation_cache import OperationCaches
from gateway.request import RequestHandler
from gateway.supergraph import load_supergraph

SDL = (Path(__file__).parent / "supergraph_reviews.graphql").read_text()


async def test_recent_operations_are_planned_for_the_new_supergraph() -> None:
    client = SubgraphClient()
    caches = OperationCaches()
    old = RequestHandler(load_supergraph(SDL), Executor(client, {}), caches=caches)
    queries = [
        "{ me { name } }",
        "query Reviews($withAuthor: Boolean!) "
        "{ me { reviews { body author @include(if: $withAuthor) { name } } } }",
        "{ me { nosuchfield } }",  # does not validate: not warmed, no harm
    ]
    old.prepare(queries[0], None, {})
    old.prepare(queries[1], None, {"withAuthor": True})
    old.prepare(queries[2], None, {})
    # the "new" supergraph: same types, another text (so another schema hash)
    new = RequestHandler(load_supergraph(SDL + "\n# v2\n"), Executor(client, {}), caches=caches)
    assert new.schema_hash != old.schema_hash
    try:
        assert await new.warm_from(old, limit=10) == 2
        plan_misses = caches.plans.misses
        new.prepare(queries[0], None, {})
        new.prepare(queries[1], None, {"withAuthor": True})
        assert caches.plans.misses == plan_misses  # both plans were there already
        new.prepare(queries[1], None, {"withAuthor": False})  # other @include: not warmed
        assert caches.plans.misses == plan_misses + 1
        assert await new.warm_from(old, limit=1) == 1  # the limit holds
    finally:
        await client.aclose()
