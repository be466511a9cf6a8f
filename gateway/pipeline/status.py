"""The one place that decides a GraphQL request's HTTP status: from the code of the error it
ends with (gateway/pipeline/failure.py), and from the response's media type for a request that
never ran (gateway/http/media_types.py). An answer that ran is 200, whatever its errors."""

from __future__ import annotations

from auth.errors import AuthenticationError, AuthErrorCode
from gateway.allow_list import NOT_IN_ALLOW_LIST
from gateway.audit.log import UNAVAILABLE
from gateway.errors import INTROSPECTION_DISABLED, UNAUTHORIZED
from gateway.http.media_types import GRAPHQL_RESPONSE, request_error_status
from gateway.limits.priority import GATEWAY_BUSY
from gateway.limits.refusal import QUERY_TOO_LARGE
from gateway.persisted_queries import NOT_FOUND
from gateway.rate_limit import RATE_LIMITED

# every code not named here is the caller's request at fault: 400
DEFAULT = 400
BY_CODE: dict[str, int] = {
    # the token: 401, or 503 when the identity provider is away (auth/errors.py says which)
    **{str(code): AuthenticationError(code, "").http_status for code in AuthErrorCode},
    "FORBIDDEN": 403,  # a purpose header that contradicts the token
    NOT_IN_ALLOW_LIST: 403,
    UNAUTHORIZED: 403,  # with --reject-unauthorized
    INTROSPECTION_DISABLED: 403,
    "METHOD_NOT_ALLOWED": 405,  # a mutation over GET
    "PAYLOAD_TOO_LARGE": 413,  # the body
    QUERY_TOO_LARGE: 413,  # the query text, over its client's limit
    RATE_LIMITED: 429,
    # the persisted-query protocol's normal first answer: clients then send the query
    NOT_FOUND: 200,
    "QUERY_PLANNING_FAILED": 500,
    "INTERNAL_SERVER_ERROR": 500,
    UNAVAILABLE: 503,  # the access log cannot record a read of personal data
    GATEWAY_BUSY: 503,  # the line of anonymous requests is full
}


def status_for(code: str, never_ran: bool, media_type: str = GRAPHQL_RESPONSE) -> int:
    """`never_ran`: the document did not parse or validate, or its variables did not coerce;
    GraphQL over HTTP then wants 400 or 200 depending on the media type."""
    if never_ran:
        return request_error_status(media_type)
    return BY_CODE.get(code, DEFAULT)
