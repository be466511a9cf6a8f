"""A schema extension that gives the errors graphql-core raises an Apollo-style code.

- a syntax error: GRAPHQL_PARSE_FAILED;
- a document that does not validate against the schema: GRAPHQL_VALIDATION_FAILED;
- a variable whose value cannot be coerced (e.g. an unknown enum value for `category`):
  BAD_USER_INPUT, as Apollo Server does.

Errors the resolvers raise already carry their code (see `errors`) and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from subgraphs.common.errors import (
    BAD_USER_INPUT,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
)


def _tag(errors: Iterable[GraphQLError] | None, code: str, *, only_variables: bool = False) -> None:
    for error in errors or ():
        if error.extensions and "code" in error.extensions:
            continue
        if only_variables and not (error.path is None and error.message.startswith("Variable ")):
            continue
        error.extensions = {**(error.extensions or {}), "code": code}


class ErrorCodes(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, GRAPHQL_PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, GRAPHQL_VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None:
            _tag(getattr(result, "errors", None), BAD_USER_INPUT, only_variables=True)
