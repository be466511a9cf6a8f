"""GraphQL over HTTP at the gateway: bad requests get a clear GraphQL error, never a stack trace."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.stack import ANN, Stack


def post_raw(
    stack: Stack, content: bytes, content_type: str = "application/json"
) -> httpx.Response:
    return httpx.post(
        stack.graphql_url, content=content, headers={"content-type": content_type}, timeout=10
    )


def only_error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    (error,) = body["errors"]
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "BAD_REQUEST"),
        (b"[1, 2]", "BAD_REQUEST"),
        (b"{}", "BAD_REQUEST"),
        (b'{"query": ""}', "BAD_REQUEST"),
        (b'{"query": 42}', "BAD_REQUEST"),
        (b'{"query": "{ me { insz } }", "variables": [1]}', "BAD_REQUEST"),
        (b'{"query": "{ me { insz } }", "operationName": 7}', "BAD_REQUEST"),
        (b'{"query": "query A { me { insz } }", "operationName": "B"}', "OPERATION_NOT_FOUND"),
        (
            b'{"query": "query A { me { insz } } query B { me { insz } }"}',
            "OPERATION_NAME_REQUIRED",
        ),
    ],
)
def test_malformed_requests_are_400_with_a_code(stack: Stack, content: bytes, code: str) -> None:
    response = post_raw(stack, content)
    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"] == {"code": code}
    assert "Traceback" not in response.text


def post_accepting(stack: Stack, content: bytes, accept: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    return httpx.post(stack.graphql_url, content=content, headers=headers, timeout=10)


# the GraphQL-over-HTTP spec: a request that never ran (its document does not parse or validate,
# its variables do not coerce) is 400 under application/graphql-response+json, 200 under
# application/json (the default: no Accept header, or a wildcard)
MEDIA_TYPES = [
    ("application/graphql-response+json", "application/graphql-response+json", 400),
    ("application/graphql-response+json, application/json;q=0.9", None, 400),
    ("application/json, application/graphql-response+json;q=0.5", "application/json", 200),
    ("application/json", "application/json", 200),
    ("*/*", "application/json", 200),
    (None, "application/json", 200),
]


@pytest.mark.parametrize(("accept", "content_type", "status"), MEDIA_TYPES)
@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"query": "{ me { insz "}', "GRAPHQL_PARSE_FAILED"),
        (b'{"query": "{ me { insz shoeSize } }"}', "GRAPHQL_VALIDATION_FAILED"),
        (
            b'{"query": "query($n: Int!) { me { qualifications(first: $n) { totalCount } } }",'
            b' "variables": {"n": "many"}}',
            "BAD_USER_INPUT",
        ),
    ],
)
def test_requests_that_never_ran_get_the_media_types_status(
    stack: Stack,
    content: bytes,
    code: str,
    accept: str | None,
    content_type: str | None,
    status: int,
) -> None:
    response = post_accepting(stack, content, accept)
    assert response.status_code == status
    expected_type = content_type or "application/graphql-response+json"
    assert response.headers["content-type"] == expected_type
    assert only_error(response)["extensions"]["code"] == code


def test_a_good_answer_is_200_under_either_media_type(stack: Stack) -> None:
    for accept in ("application/graphql-response+json", "application/json"):
        response = post_accepting(stack, b'{"query": "{ __typename }"}', accept)
        assert response.status_code == 200
        assert response.headers["content-type"] == accept
        assert response.json() == {"data": {"__typename": "Query"}}


def test_validation_errors_give_null_data_and_locations(stack: Stack) -> None:
    response = post_raw(stack, b'{"query": "{ me { insz shoeSize } }"}')
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["locations"] == [{"line": 1, "column": 13}]


def test_a_variable_of_the_wrong_type_is_rejected(stack: Stack) -> None:
    query = "query($n: Int!) { me { qualifications(first: $n) { totalCount } } }"
    body = json.dumps({"query": query, "variables": {"n": "many"}}).encode()
    response = post_raw(stack, body)
    assert response.status_code == 200  # application/json: the spec's status for it
    assert only_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


def test_post_needs_a_json_content_type(stack: Stack) -> None:
    response = post_raw(stack, b"query=%7Bme%7Binsz%7D%7D", "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert only_error(response)["extensions"] == {"code": "BAD_REQUEST"}


def test_an_oversized_body_is_refused_without_reading_it_all(stack: Stack) -> None:
    big = b'{"query": "{ me { insz } }", "pad": "' + b"x" * 2_000_000 + b'"}'
    response = post_raw(stack, big)
    assert response.status_code == 413
    assert only_error(response)["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


def test_get_runs_queries_but_not_mutations(stack: Stack) -> None:
    token = {"authorization": f"Bearer {stack.token(ANN)}"}
    ok = httpx.get(stack.graphql_url, params={"query": "{ me { insz } }"}, headers=token)
    assert ok.status_code == 200 and ok.json() == {"data": {"me": {"insz": ANN}}}
    count = "{ me { tickets { id } } }"
    before = httpx.get(stack.graphql_url, params={"query": count}, headers=token).json()
    refused = httpx.get(stack.graphql_url, params={"query": REPORT}, headers=token)
    assert refused.status_code == 405
    assert only_error(refused)["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    after = httpx.get(stack.graphql_url, params={"query": count}, headers=token).json()
    assert after == before  # nothing was reported


REPORT = """
mutation {
  reportTicket(input: {
    category: LOOSE_PAVING_TILE, description: "Loszittende tegel voor nummer 12",
    municipalityNisCode: "44021",
    location: {street: "Veldstraat", houseNumber: "12", postalCode: "9000",
               latitude: 51.0515, longitude: 3.7215}
  }) { id }
}
"""


def test_browsers_get_graphiql(stack: Stack) -> None:
    page = httpx.get(stack.graphql_url, headers={"accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text


def test_health(stack: Stack) -> None:
    response = httpx.get(stack.gateway.url + "/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_introspection_and_typename(stack: Stack) -> None:
    query = '{ __typename __type(name: "Citizen") { fields { name } } }'
    body = stack.query(query, insz=ANN).json()  # anonymous callers may not introspect
    assert body["data"]["__typename"] == "Query"
    names = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert {"insz", "qualifications", "tickets", "childBenefits"} <= names
