"""GraphQL errors with the Apollo-style `extensions.code` that clients and the gateway act on."""

from __future__ import annotations

from graphql import GraphQLError

from resolvers.common.errors import InvalidInput

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def bad_user_input(message: str, *, field: str | None = None) -> GraphQLError:
    """A value broke a rule; `field` names the argument or input field at fault."""
    extensions: dict[str, object] = {"code": BAD_USER_INPUT}
    if field is not None:
        extensions["field"] = field
    return GraphQLError(message, extensions=extensions)


def from_invalid_input(error: InvalidInput, *, prefix: str = "") -> GraphQLError:
    """Translate a resolver's InvalidInput; `prefix` qualifies its field, e.g. "input."."""
    field = None if error.field is None else prefix + error.field
    return bad_user_input(error.message, field=field)


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": UNAUTHENTICATED})


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": FORBIDDEN})


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": NOT_FOUND})
