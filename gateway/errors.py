"""Errors the gateway raises and the GraphQL error shape it answers with."""

from __future__ import annotations

from typing import Any

# a field the caller may not read (@authenticated, @requiresScopes, @policy)
UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
# __schema or __type asked by a caller the configuration does not allow to
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


class GatewayError(Exception):
    """An error with an `extensions.code` that is safe to show to the caller."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def to_graphql(self) -> dict[str, Any]:
        return graphql_error(self.message, self.code)


class SupergraphError(GatewayError):
    code = "INVALID_SUPERGRAPH"


class PlanningError(GatewayError):
    code = "QUERY_PLANNING_FAILED"


class RequestError(GatewayError):
    """The HTTP request itself is unusable (bad JSON, no query, ...): answered with 400."""

    code = "BAD_REQUEST"


def graphql_error(
    message: str,
    code: str,
    path: list[str | int] | None = None,
    locations: list[dict[str, int]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if locations:
        error["locations"] = locations
    if path is not None:
        error["path"] = path
    error["extensions"] = {"code": code, **extensions}
    return error
