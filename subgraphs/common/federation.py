"""How every reference subgraph builds its Apollo Federation v2 schema.

Federation v2 is Strawberry's only mode (its `federation.Schema` has no `enable_federation_2`
switch any more). The version in the `@link` is pinned to 2.7: new enough for @authenticated,
@requiresScopes and @policy, and supported by the reference composition library and gateway
that the tests compare against (they stop at 2.9; Strawberry's default would be 2.11).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from subgraphs.common.caching import CacheHints, cache_control
from subgraphs.common.error_codes import ErrorCodes

FEDERATION_VERSION: Final = "2.7"
FEDERATION_LINK = f"https://specs.apollo.dev/federation/v{FEDERATION_VERSION}"


class SubgraphSchema(strawberry.federation.Schema):
    """A federation schema that logs only unexpected errors, not the client's mistakes."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            error
            for error in errors
            if error.original_error is not None
            and not isinstance(error.original_error, GraphQLError)
        ]
        super().process_errors(unexpected, execution_context)


def build_schema(
    query: type,
    mutation: type | None = None,
    types: Iterable[type] = (),
    *,
    cache_hints: CacheHints,
) -> strawberry.federation.Schema:
    """The schema; `cache_hints` say how long what it answers may be cached (see `caching`)."""
    extra: dict[str, Any] = {}
    if mutation is not None:
        extra["mutation"] = mutation
    return SubgraphSchema(
        query=query,
        types=list(types),
        extensions=[ErrorCodes, cache_control(cache_hints)],
        federation_version=FEDERATION_VERSION,
        **extra,
    )
