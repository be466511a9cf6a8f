"""Step 9, shape: the answer's data, walked from the merged subgraph data along the operation
with GraphQL's null propagation (gateway/execution/shaping.py), by a program compiled once per
operation and set of denied fields (compiled before execution: it reads only the operation). Then
the personal data read goes to the access log."""

from __future__ import annotations

from typing import Any

from gateway import tracing
from gateway.audit.log import AccessLog
from gateway.authorization import hint_no_token
from gateway.execution.shaping import ShapeKey, ShapePrograms, Shaper
from gateway.operation_cache import CacheLimits
from gateway.pipeline.context import RequestContext, need


class Shape:
    def __init__(self, limits: CacheLimits, access_log: AccessLog | None) -> None:
        # compiled shaping per operation and denied fields (this supergraph's types)
        self.programs = ShapePrograms(limits.entries, limits.bytes, limits.second_sight)
        self.access_log = access_log

    def compile(self, ctx: RequestContext) -> None:
        authorized = need(ctx.authorized)
        key = ShapeKey(need(ctx.normalized).fingerprint, authorized.denied)
        ctx.shaping = self.programs.program(key, authorized.operation, authorized.denied_fields)

    async def __call__(self, ctx: RequestContext) -> dict[str, Any] | None:
        state = need(ctx.state)
        errors = state.errors
        with tracing.step("shape"):
            data = Shaper(errors, state.explained).shape(need(ctx.shaping), state.data)
        if ctx.principal.is_anonymous:
            hint_no_token(errors)
        if ctx.audit is not None and self.access_log is not None:
            await self.access_log.record(ctx.audit, state.data, errors, ctx.principal, ctx.query)
        return data
