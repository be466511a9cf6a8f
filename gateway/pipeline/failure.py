"""How a request ends when it does not run to an answer: one typed value, whatever the step.

A step returns a `Failure` instead of raising (or building a response): the GraphQL errors to
answer with and what else the answer carries. Its HTTP status is not chosen here but from its
code, in gateway/pipeline/status.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import graphql_error
from gateway.http.media_types import GRAPHQL_RESPONSE
from gateway.pipeline.status import status_for


class ToGraphQL(Protocol):
    """An error that knows its GraphQL shape (GatewayError, LimitExceeded, Busy, Refusal...)."""

    def to_graphql(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Failure:
    errors: tuple[dict[str, Any], ...]
    # the document did not parse or validate, or the variables did not coerce
    never_ran: bool = False
    # answered with `"data": null` too (a document that parsed but did not validate)
    data_null: bool = False
    extensions: Mapping[str, Any] | None = None  # the estimated cost, when the caller asked
    headers: Mapping[str, str] = field(default_factory=dict)  # WWW-Authenticate, Retry-After

    @classmethod
    def of(cls, error: ToGraphQL, headers: Mapping[str, str] | None = None) -> Failure:
        return cls((error.to_graphql(),), headers=headers or {})

    @classmethod
    def message(cls, message: str, code: str, headers: Mapping[str, str] | None = None) -> Failure:
        return cls((graphql_error(message, code),), headers=headers or {})

    @property
    def code(self) -> str:
        """The first error's code: the one that decides the HTTP status."""
        code: str = self.errors[0]["extensions"]["code"]
        return code

    @property
    def status(self) -> int:
        """As GraphQL over HTTP's own media type has it (the response step knows the client's)."""
        return status_for(self.code, self.never_ran, GRAPHQL_RESPONSE)

    def status_under(self, media_type: str) -> int:
        return status_for(self.code, self.never_ran, media_type)

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"data": None} if self.data_null else {}
        body["errors"] = list(self.errors)
        if self.extensions:
            body["extensions"] = dict(self.extensions)
        return body
