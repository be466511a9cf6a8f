"""Step 4, parse and validate: the document (parsed and validated once per text, off the event
loop when new, within the caller's operation limits), the operation chosen from it, its
variables coerced and its estimated cost checked against the caller's limit."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType
from graphql.execution.values import get_variable_values

from gateway import tracing
from gateway.errors import RequestError, graphql_error
from gateway.limits import LimitSettings, OperationLimits
from gateway.limits.admission import Admission, Document, Refused
from gateway.operation import select_operation
from gateway.operation_cache import OperationCaches, SentOperation
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.schema.supergraph import Supergraph
from gateway.telemetry import variable_error


class ParseValidate:
    def __init__(
        self, supergraph: Supergraph, caches: OperationCaches, limits: LimitSettings
    ) -> None:
        self.supergraph = supergraph
        # size, shape and cost limits, checked before the work they bound; the parsed and
        # validated documents are its cache (gateway/limits/admission.py)
        self.admission = Admission(supergraph, caches, limits)

    def limits_for(self, ctx: RequestContext) -> OperationLimits:
        if ctx.limits is None:
            ctx.limits = self.admission.settings.for_principal(ctx.principal)
        return ctx.limits

    async def document_off_loop(self, ctx: RequestContext) -> None:
        """The document, parsed and validated in a thread when new (an anonymous caller's in
        its own, giving way to callers with a token)."""
        with tracing.step("parse_validate"):
            ctx.document = await self.admission.document_off_loop(ctx.query, self.limits_for(ctx))

    def __call__(self, ctx: RequestContext) -> Failure | None:
        limits = self.limits_for(ctx)
        if ctx.document is None:  # a caller that did not parse off the loop first
            ctx.document = self.admission.document(ctx.query, limits)
        doc = ctx.document
        if doc.refused is not None:
            return Failure.of(doc.refused)
        if doc.document is None:
            validated = doc.errors[0]["extensions"]["code"] != "GRAPHQL_PARSE_FAILED"
            return Failure(doc.errors, never_ran=True, data_null=validated)
        try:
            operation = select_operation(doc.document, ctx.operation_name)
        except RequestError as exc:
            return Failure.of(exc)
        if not ctx.allow_mutation and operation.operation != OperationType.QUERY:
            return Failure.message(
                f"Can only perform a {operation.operation.value} operation from a POST request.",
                "METHOD_NOT_ALLOWED",
            )
        if operation.operation == OperationType.SUBSCRIPTION:
            return Failure.message("Subscriptions are not supported.", "OPERATION_NOT_SUPPORTED")
        ctx.definition = operation
        coerced = get_variable_values(
            self.supergraph.api_schema, operation.variable_definitions or (), dict(ctx.variables)
        )
        if isinstance(coerced, list):
            errors = tuple(_located(e, "BAD_USER_INPUT", variable_error(e)) for e in coerced)
            return Failure(errors, never_ran=True)
        ctx.coerced = coerced
        return self._within_cost(ctx, doc, limits)

    def _within_cost(
        self, ctx: RequestContext, doc: Document, limits: OperationLimits
    ) -> Failure | None:
        values = need(ctx.coerced).coerced
        try:
            ctx.cost = self.admission.cost(doc, need(ctx.definition), values, limits)
        except Refused as exc:
            extensions = None
            if ctx.asks.cost and exc.cost is not None:
                extensions = {"cost": cost_json(exc.cost, limits)}
            return Failure((exc.error.to_graphql(),), extensions=extensions)
        conditions = tuple(sorted((n, bool(values.get(n))) for n in doc.conditions))
        ctx.sent = SentOperation(ctx.query, ctx.operation_name, conditions)
        return None


def cost_json(cost: int, limits: OperationLimits) -> dict[str, int]:
    return {"estimated": cost, "limit": limits.max_cost}


def _located(error: GraphQLError, code: str, message: str | None = None) -> dict[str, Any]:
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return graphql_error(message or error.message, code, locations=locations or None)
