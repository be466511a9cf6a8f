"""An operation the gateway has not seen is parsed and validated off the event loop, in the
admission worker thread; a known one is served from the cache on the loop itself."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from graphql import GraphQLSyntaxError
from graphql import validate as graphql_validate

import gateway.limits.admission as admission
from gateway.execution.executor import Executor
from gateway.execution.subgraph_client import SubgraphClient
from gateway.limits import OperationLimits
from gateway.pipeline.context import RequestContext
from gateway.pipeline.handler import RequestHandler
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import SUPERGRAPH

SG = load_supergraph(SUPERGRAPH.read_text())


async def test_unseen_documents_are_validated_in_the_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[int] = []

    def validate(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return graphql_validate(*args, **kwargs)

    monkeypatch.setattr(admission, "validate_acyclic", validate)
    client = SubgraphClient()
    try:
        handler = RequestHandler(SG, Executor(client, {}))
        query = "{ __typename }"
        answers = [await handler.handle(RequestContext(query)) for _ in range(3)]
    finally:
        await client.aclose()
    assert all(answer.body == {"data": {"__typename": "Query"}} for answer in answers)
    # validated in the worker on first and second sight (kept then), not on the third
    assert len(threads) == 2 and threading.get_ident() not in threads
    assert handler.caches.documents.hits >= 1


async def test_refusals_come_back_from_the_worker_with_their_code() -> None:
    client = SubgraphClient()
    try:
        handler = RequestHandler(SG, Executor(client, {}))
        deep = "{ __schema { types { name " + "ofType { name " * 25 + "}" * 25 + " } } }"
        refused = await handler.handle(RequestContext(deep))
        bad = await handler.handle(RequestContext("{ nosuchfield }"))
        broken = await handler.handle(RequestContext("{ "))
    finally:
        await client.aclose()
    assert refused.status == 400
    assert refused.body["errors"][0]["extensions"]["code"] == "MAX_DEPTH_LIMIT"
    assert bad.body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert broken.status == 400
    assert broken.body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_kept_document_lets_its_tokens_go_and_still_locates_errors() -> None:
    client = SubgraphClient()
    try:
        handler = RequestHandler(SG, Executor(client, {}))
        query = "query Q($nis: ID!) { municipality(nisCode: $nis) { __typename } }"
        for _ in range(2):  # kept on second sight
            wrong = await handler.handle(RequestContext(query, None, {"nis": {"not": "an id"}}))
    finally:
        await client.aclose()
    document = handler.caches.documents.get((SG.schema_hash, query))
    assert document is not None and document.value.document is not None
    assert document.value.document.loc.start_token is None
    error = wrong.body["errors"][0]
    assert wrong.status == 400 and error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["locations"] == [{"line": 1, "column": 9}]


@pytest.mark.parametrize(
    "query",
    [
        "query Q($v: [String!]) { a: municipalities { name } ...F }"
        " fragment F on Query { me { name } }",
        "{ # a comment\n __typename }",
        "{ a(",  # a syntax error: the same error, at the same place
        "{ " + "a { " * 3000 + "}" * 3000 + " }",  # nested past the interpreter's recursion
    ],
)
def test_a_paced_parse_is_graphql_cores_parse(query: str) -> None:
    """An anonymous caller's parse (paced: a call per token) gives the same document, or the
    same error, as graphql-core's parse within the same limits."""
    limits = OperationLimits(max_tokens=50_000)
    calls: list[None] = []

    def outcome(pace: Any) -> Any:
        try:
            return admission.parse_within(query, limits, pace).to_dict()
        except GraphQLSyntaxError as exc:
            return exc.formatted

    assert outcome(lambda: calls.append(None)) == outcome(None)
    assert len(calls) >= min(len(query.split()), 3)


def test_a_paced_parse_keeps_the_token_limit() -> None:
    limits = OperationLimits(max_tokens=10)
    calls: list[None] = []
    with pytest.raises(GraphQLSyntaxError, match="more than 10 tokens"):
        admission.parse_within("{ " + "a " * 50 + "}", limits, lambda: calls.append(None))
    assert len(calls) == 11  # stopped at the limit, not at the end
