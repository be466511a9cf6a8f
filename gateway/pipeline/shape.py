"""Step 9, shape: the answer's data, walked from the merged subgraph data along the operation
with GraphQL's null propagation (gateway/execution/shaping.py), by a program compiled once per
operation and set of denied fields (compiled before execution: it reads only the operation). An
anonymous request's answer is shaped in its admission thread, pausing while requests with a token
are served: a list of thousands of objects takes milliseconds, which would otherwise hold the
event loop in one stretch. Then the personal data read goes to the access log."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway import tracing
from gateway.audit.log import AccessLog
from gateway.authorization import hint_no_token
from gateway.execution.shaping import ShapeKey, ShapePrograms, Shaper
from gateway.limits import priority
from gateway.limits.admission import admission_thread
from gateway.limits.priority import Pauser
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
        program = need(ctx.shaping)
        with tracing.step("shape"):
            gives_way = priority.current()
            if gives_way is None:
                data = Shaper(errors, state.explained).shape(program, state.data)
            else:
                shaper = Shaper(errors, state.explained, Pauser(gives_way).step)
                loop = asyncio.get_running_loop()
                data = await loop.run_in_executor(
                    admission_thread(True), shaper.shape, program, state.data
                )
        if ctx.principal.is_anonymous:
            hint_no_token(errors)
        if ctx.audit is not None and self.access_log is not None:
            await self.access_log.record(ctx.audit, state.data, errors, ctx.principal, ctx.query)
        return data
