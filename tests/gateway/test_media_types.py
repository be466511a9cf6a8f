"""Content negotiation between GraphQL over HTTP's two response media types."""

from __future__ import annotations

import pytest

from gateway.http.media_types import GRAPHQL_RESPONSE, JSON, negotiate, request_error_status


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html", JSON),  # names neither: the legacy answer rather than a 406
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.2, application/graphql-response+json;q=0.9", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, */*", JSON),
        ("application/graphql-response+json;q=nonsense, application/json", JSON),
        ("application/graphql-response+json, multipart/mixed;q=0.9, */*;q=0.1", GRAPHQL_RESPONSE),
    ],
)
def test_negotiate(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_a_request_that_never_ran_is_400_only_under_the_new_media_type() -> None:
    assert request_error_status(GRAPHQL_RESPONSE) == 400
    assert request_error_status(JSON) == 200
