"""Domain errors that resolvers raise; the subgraphs turn them into GraphQL errors with codes."""

from __future__ import annotations


class InvalidInput(ValueError):
    """The caller sent a value that breaks a rule (GraphQL code BAD_USER_INPUT).

    `field` names the argument or input field at fault, e.g. "input.description".
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
