"""The answer to an operation over one of its client's limits: a GraphQL error whose code names
the limit, with the limit and (where known) what the operation measured."""

from __future__ import annotations

from typing import Any

from gateway.errors import RequestError, graphql_error

QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
MAX_TOKENS = "MAX_TOKENS_LIMIT"
MAX_COMMENTS = "MAX_COMMENTS_LIMIT"
MAX_DEPTH = "MAX_DEPTH_LIMIT"
MAX_ALIASES = "MAX_ALIASES_LIMIT"
MAX_ROOT_FIELDS = "MAX_ROOT_FIELDS_LIMIT"
MAX_DIRECTIVES = "MAX_DIRECTIVES_LIMIT"
MAX_REPEATED_FIELDS = "MAX_REPEATED_FIELDS_LIMIT"
MAX_FIELDS = "MAX_FIELDS_LIMIT"
MAX_FRAGMENTS = "MAX_FRAGMENTS_LIMIT"
COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"


class LimitExceeded(RequestError):
    """Raised before the heavy work the operation would have caused."""

    def __init__(self, code: str, message: str, limit: int, measured: int | None = None) -> None:
        super().__init__(message, code)
        self.limit = limit
        self.measured = measured

    def to_graphql(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"limit": self.limit}
        if self.measured is not None:
            extra["measured"] = self.measured
        return graphql_error(self.message, self.code, **extra)
