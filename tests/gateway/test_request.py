"""Request handling without HTTP: errors that must come back as GraphQL errors."""

from __future__ import annotations

from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import load_supergraph

# Hand-written (composition would refuse it): `Thing.secret` lives in graph B, but Thing has no
# key there, so no plan can reach it from graph A.
UNREACHABLE = """
schema @link(url: "https://specs.apollo.dev/link/v1.0")
       @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) { query: Query }
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false,
  resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet,
  type: String, external: Boolean, override: String, usedOverridden: Boolean)
  repeatable on FIELD_DEFINITION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import])
  repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph {
  A @join__graph(name: "a", url: "http://127.0.0.1:9/a")
  B @join__graph(name: "b", url: "http://127.0.0.1:9/b")
}
type Query @join__type(graph: A) { thing: Thing @join__field(graph: A) }
type Thing @join__type(graph: A) @join__type(graph: B) {
  id: ID! @join__field(graph: A)
  secret: String @join__field(graph: B)
}
"""


async def test_an_unplannable_operation_is_a_500_with_a_code() -> None:
    client = SubgraphClient()
    try:
        handler = RequestHandler(load_supergraph(UNREACHABLE), Executor(client, {}))
        response = await handler.handle(RequestContext("{ thing { id secret } }"))
    finally:
        await client.aclose()
    assert response.status == 500
    (error,) = response.body["errors"]
    assert error["extensions"]["code"] == "QUERY_PLANNING_FAILED"
    assert "Thing.secret" in error["message"]


async def test_fragments_nested_too_deep_are_refused_before_planning() -> None:
    from pathlib import Path

    sdl = (Path(__file__).parent / "supergraph_reviews.graphql").read_text()
    fragments = "\n".join(
        f"fragment F{i} on User {{ reviews {{ author {{ ...F{i + 1} }} }} }}" for i in range(60)
    )
    query = "{ me { ...F0 } }\n" + fragments + "\nfragment F60 on User { name }"
    client = SubgraphClient()
    try:
        handler = RequestHandler(load_supergraph(sdl), Executor(client, {}))
        response = await handler.handle(RequestContext(query))
    finally:
        await client.aclose()
    assert response.status == 400
    assert response.body["errors"][0]["extensions"]["code"] == "MAX_DEPTH_LIMIT"
