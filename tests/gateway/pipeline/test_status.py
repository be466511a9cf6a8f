"""HTTP statuses come from one table (gateway/pipeline/status.py), keyed by the error's code."""

from __future__ import annotations

from auth.errors import AuthErrorCode
from gateway.http.media_types import GRAPHQL_RESPONSE, JSON
from gateway.pipeline.failure import Failure
from gateway.pipeline.status import status_for


def test_codes_map_to_statuses() -> None:
    expected = {
        "BAD_REQUEST": 400,
        "OPERATION_NOT_FOUND": 400,
        "MAX_DEPTH_LIMIT": 400,
        "COST_LIMIT_EXCEEDED": 400,
        "QUERY_TOO_LARGE": 413,
        "PAYLOAD_TOO_LARGE": 413,
        "METHOD_NOT_ALLOWED": 405,
        "FORBIDDEN": 403,
        "PERSISTED_QUERY_NOT_IN_ALLOW_LIST": 403,
        "UNAUTHORIZED_FIELD_OR_TYPE": 403,
        "INTROSPECTION_DISABLED": 403,
        "PERSISTED_QUERY_NOT_FOUND": 200,
        "RATE_LIMITED": 429,
        "QUERY_PLANNING_FAILED": 500,
        "INTERNAL_SERVER_ERROR": 500,
        "ACCESS_LOG_UNAVAILABLE": 503,
        "GATEWAY_BUSY": 503,
        str(AuthErrorCode.TOKEN_EXPIRED): 401,
        str(AuthErrorCode.AUTH_PROVIDER_UNAVAILABLE): 503,
    }
    assert {code: status_for(code, False) for code in expected} == expected


def test_a_request_that_never_ran_depends_on_the_media_type() -> None:
    for code in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"):
        assert status_for(code, True, GRAPHQL_RESPONSE) == 400
        assert status_for(code, True, JSON) == 200
    # the same code in a request that ran (a variable refused by a step after coercion): 400
    assert status_for("BAD_USER_INPUT", False, JSON) == 400


def test_a_failure_reads_its_status_from_its_first_error() -> None:
    failure = Failure.message("no", "RATE_LIMITED", {"retry-after": "2"})
    assert failure.code == "RATE_LIMITED" and failure.status == 429
    assert failure.body == {"errors": [{"message": "no", "extensions": {"code": "RATE_LIMITED"}}]}
    validation = Failure(failure.errors, never_ran=True, data_null=True)
    assert list(validation.body) == ["data", "errors"] and validation.body["data"] is None
    assert validation.status_under(JSON) == 200 and validation.status == 400
