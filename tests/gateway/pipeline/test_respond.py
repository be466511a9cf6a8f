"""Step 10: the HTTP response to an answer or a failure."""

from __future__ import annotations

from gateway.cache.status import HEADER as CACHE_STATUS_HEADER
from gateway.http.media_types import GRAPHQL_RESPONSE, JSON
from gateway.pipeline.failure import Failure
from gateway.pipeline.respond import Answer, refuse, respond, validated


def test_an_answer_is_200_and_says_how_many_subgraph_calls_it_took() -> None:
    answer = Answer({"data": {"a": 1}}, 3, "HIT", "public, max-age=60")
    response = respond(answer, JSON, {})
    assert response.status_code == 200
    assert response.headers["x-subgraph-requests"] == "3"
    assert response.headers[CACHE_STATUS_HEADER] == "HIT"
    assert response.headers["cache-control"] == "public, max-age=60"
    private = respond(answer, JSON, {"authorization": "Bearer t"})
    assert private.headers["cache-control"] == "private, max-age=60"


def test_a_failure_gets_its_status_from_its_code_and_the_media_type() -> None:
    invalid = Failure(({"message": "x", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},))
    never_ran = Failure(invalid.errors, never_ran=True, data_null=True)
    assert respond(never_ran, JSON, {}).status_code == 200
    assert respond(never_ran, GRAPHQL_RESPONSE, {}).status_code == 400
    assert respond(never_ran, JSON, {}).headers["cache-control"] == "no-store"
    limited = Failure.message("slow down", "RATE_LIMITED", {"retry-after": "3"})
    response = refuse(limited, JSON)
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert "x-subgraph-requests" not in response.headers


def test_a_client_that_has_the_answer_gets_304() -> None:
    first = validated(respond(Answer({"data": {}}), JSON, {}), None)
    tag = first.headers["etag"]
    assert validated(respond(Answer({"data": {}}), JSON, {}), tag).status_code == 304
