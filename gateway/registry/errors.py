"""Why the registry refuses a request: an HTTP status, a code, a message a person can act on,
and the details (composition errors, ownership violations, breaking changes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.composition import CompositionError
from gateway.registry.breaking import SchemaChange


class RegistryRefusal(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: Sequence[CompositionError] = (),
        breaking: Sequence[SchemaChange] = (),
        dangerous: Sequence[SchemaChange] = (),
        retry_after: str | None = None,
    ) -> None:
        """`retry_after`: the Retry-After header's seconds (429: rate limited)."""
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)
        self.breaking = list(breaking)
        self.dangerous = list(dangerous)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = [composition_error_json(e) for e in self.errors]
        if self.breaking:
            body["breakingChanges"] = [c.to_json() for c in self.breaking]
        if self.dangerous:
            body["dangerousChanges"] = [c.to_json() for c in self.dangerous]
        return body


def composition_error_json(error: CompositionError) -> dict[str, Any]:
    out: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.subgraphs:
        out["subgraphs"] = list(error.subgraphs)
    if error.coordinate:
        out["coordinate"] = error.coordinate
    if error.hint:
        out["hint"] = error.hint
    return out
