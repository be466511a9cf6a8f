"""Step 8, execute: the plan's fetches run against the subgraphs (gateway/execution/), and the
introspection fields answered by the gateway itself (gateway/pipeline/introspection.py). Before:
whether this caller may run it now (the access log must be able to record a read of personal
data; introspection may be refused). After: fields bound to their data subject checked against
the caller (gateway/ownership/)."""

from __future__ import annotations

from collections.abc import Mapping

from graphql import OperationType

from gateway import tracing
from gateway.audit.log import UNAVAILABLE, AccessLog
from gateway.audit.reads import drop_subject_errors
from gateway.cache.status import CacheStatus
from gateway.execution.credentials import StaticHeaders
from gateway.execution.executor import ExecutionState, Executor
from gateway.limits import priority
from gateway.ownership.guard import Ownership
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.pipeline.introspection import Introspection


class Execute:
    def __init__(
        self, executor: Executor, introspection: Introspection, access_log: AccessLog | None
    ) -> None:
        self.executor = executor
        self.introspection = introspection
        self.access_log = access_log  # None: no access log (no personal data is audited)

    def refusal(self, ctx: RequestContext) -> Failure | None:
        """Why this caller may not run the operation now, if it may not."""
        access_log, principal = self.access_log, ctx.principal
        if ctx.audit is not None and access_log is not None and access_log.refuses(principal):
            message = "Personal data cannot be read now: the access log cannot record it."
            return Failure.message(message, UNAVAILABLE)
        if need(ctx.plan).has_introspection and not self.introspection.may(principal):
            return Failure((self.introspection.refusal(principal),))
        return None

    async def __call__(self, ctx: RequestContext) -> Failure | None:
        refused = self.refusal(ctx)
        if refused is not None:
            return refused
        plan, principal = need(ctx.plan), ctx.principal
        authorized = need(ctx.authorized)
        op = authorized.operation  # the caller's view
        variables = {k: v for k, v in ctx.variables.items() if k in op.variable_definitions}
        query = need(ctx.definition).operation == OperationType.QUERY
        # the entity cache serves queries only: a mutation's entity fetches must see its effects
        state = ExecutionState(
            principal=principal if query else None,
            cache_status=CacheStatus() if ctx.asks.cache_status else None,
        )
        ctx.state = state
        if authorized.guard is not None:
            state.ownership = Ownership(authorized.guard, principal.insz, plan)
        await priority.checkpoint()  # an anonymous request lets callers with a token go first
        if plan.fetches:
            headers = ctx.headers
            if isinstance(headers, Mapping):  # the same for every subgraph
                headers = StaticHeaders(headers)
            with tracing.step("execute"):
                await self.executor.execute(plan, variables, headers, state)
            await priority.checkpoint()
        if plan.has_introspection:
            await self.introspection.answer(ctx, state)
        if state.ownership is not None:
            state.ownership.enforce(state.data, state.errors)
        elif ctx.audit is not None:  # the subjects the log asked for are not the client's business
            drop_subject_errors(state.errors)
        return None
