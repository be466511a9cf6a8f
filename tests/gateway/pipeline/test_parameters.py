"""Step 1: a request's parameters from a GET's query string or a POST's JSON body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request

from gateway.allow_list import sha256
from gateway.pipeline.failure import Failure
from gateway.pipeline.parameters import Parameters, from_query_string, read_parameters


def _post(body: bytes, content_type: str = "application/json") -> Request:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    chunks: Iterator[bytes] = iter([body])

    async def receive() -> dict[str, object]:
        chunk = next(chunks, b"")
        return {"type": "http.request", "body": chunk, "more_body": False}

    scope = {"type": "http", "method": "POST", "headers": headers, "query_string": b""}
    return Request(scope, receive)


def test_get_parameters_are_read_from_the_query_string() -> None:
    found = from_query_string({"query": "{ a }", "variables": '{"x": 1}', "operationName": ""})
    assert found == Parameters("{ a }", None, {"x": 1}, None)
    assert found.digest() == sha256("{ a }") and not found.names_persisted_query


def test_a_persisted_query_is_named_by_its_hash() -> None:
    extensions = '{"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}'
    found = from_query_string({"extensions": extensions})
    assert found.query is None and found.names_persisted_query and found.digest() == "abc"


async def test_post_bodies_are_json_objects_within_the_limit() -> None:
    found = await read_parameters(_post(b'{"query": "{ a }"}'), 1000)
    assert found == Parameters("{ a }", None, {}, None)
    too_large = await read_parameters(_post(b'{"query": "{ a }"}'), 5)
    assert isinstance(too_large, Failure) and too_large.status == 413
    for body, content_type in [
        (b"[]", "application/json"),
        (b"{", "application/json"),
        (b'{"query": 1}', "application/json"),
        (b'{"query": "{ a }", "variables": []}', "application/json"),
        (b'{"query": "{ a }"}', "text/plain"),
        (b'{"query": " "}', "application/json"),
    ]:
        refused = await read_parameters(_post(body, content_type), 1000)
        assert isinstance(refused, Failure), body
        assert (refused.code, refused.status) == ("BAD_REQUEST", 400)


@pytest.mark.parametrize("name", ["variables", "extensions"])
def test_json_parameters_must_parse(name: str) -> None:
    from gateway.errors import RequestError

    with pytest.raises(RequestError):
        from_query_string({"query": "{ a }", name: "{"})
