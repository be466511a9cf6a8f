"""Step 5, normalise: the chosen operation with fragments expanded per concrete type and
@skip/@include decided (gateway/operation.py), cached by the operation as sent and the values
of its conditions, for this supergraph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, OperationDefinitionNode

from gateway import tracing
from gateway.errors import RequestError
from gateway.operation import normalize
from gateway.operation_cache import (
    Normalized,
    OperationCaches,
    OperationKey,
    SentOperation,
    Weighed,
    normalized,
    operation_weight,
)
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.schema.supergraph import Supergraph


class Normalise:
    def __init__(self, supergraph: Supergraph, caches: OperationCaches) -> None:
        self.supergraph = supergraph
        # shared with the handlers of other supergraphs: every key holds this one's schema hash
        self.caches = caches
        self.schema_hash = supergraph.schema_hash

    def __call__(self, ctx: RequestContext) -> Failure | None:
        key = OperationKey(self.schema_hash, need(ctx.sent))
        cached = self.caches.operations.get(key)
        if cached is None:
            with tracing.step("normalize"):
                document = need(ctx.document).document
                values = need(ctx.coerced).coerced
                try:
                    found = self.normalize(need(document), need(ctx.definition), values)
                except RequestError as exc:
                    return Failure.of(exc)
                cached = Weighed(found, operation_weight(found.fields))
                self.caches.operations.offer(key, cached)
        ctx.normalized = cached.value
        return None

    def normalize(
        self,
        document: DocumentNode,
        definition: OperationDefinitionNode,
        values: Mapping[str, Any],
    ) -> Normalized:
        return normalized(normalize(self.supergraph.api_schema, document, definition, values))

    def keep(self, sent: SentOperation, found: Normalized) -> None:
        """An operation normalized ahead of its requests (a new supergraph's warm-up)."""
        key = OperationKey(self.schema_hash, sent)
        self.caches.operations.put(key, Weighed(found, operation_weight(found.fields)))
