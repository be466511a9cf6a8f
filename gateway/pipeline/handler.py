"""The steps from parse and validate to the answer, for one supergraph: what a GraphQL request
runs through once its caller is known and admitted. Built whole for each supergraph and replaced
whole when it changes (gateway/http/app.py); the caches it shares across supergraphs key every
entry by the schema's hash."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import GraphQLError

from gateway import request_log
from gateway.audit.log import AccessLog
from gateway.audit.reads import AuditPlanner
from gateway.errors import PlanningError, RequestError
from gateway.execution.executor import Executor
from gateway.limits import LimitSettings, OperationLimits, priority
from gateway.operation import select_operation
from gateway.operation_cache import OperationCaches
from gateway.pipeline.authorise import Authorise
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.execute import Execute
from gateway.pipeline.failure import Failure
from gateway.pipeline.introspection import Introspection
from gateway.pipeline.normalise import Normalise
from gateway.pipeline.parse_validate import ParseValidate
from gateway.pipeline.plan import Plan
from gateway.pipeline.respond import Answer, answer
from gateway.pipeline.shape import Shape
from gateway.policies import PolicyRegistry
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.request")

# the event loop's time an anonymous request's steps may take in one go (seconds)
_STRETCH = 0.0003


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """The operator's choices the steps read (`rugzak serve`'s options)."""

    override_labels: frozenset[str] = frozenset()  # progressive-override labels switched on
    policies: PolicyRegistry | None = None  # named @policy checks
    reject_unauthorized: bool = False  # refuse an operation that reads a denied field (403)
    limits: LimitSettings | None = None  # operation limits (None: the defaults)
    introspection: str = "all"  # who may query __schema and __type: all, authenticated, none


class RequestHandler:
    def __init__(
        self,
        supergraph: Supergraph,
        executor: Executor,
        caches: OperationCaches | None = None,
        settings: HandlerSettings | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        settings = settings or HandlerSettings()
        self.supergraph = supergraph
        self.schema_hash = supergraph.schema_hash
        # parsed documents, normalized operations and plans: may be shared with the handlers
        # of other supergraphs, so every key starts with this one's schema hash
        self.caches = caches or OperationCaches()
        auditor = (
            AuditPlanner(supergraph.personal_fields, supergraph.data_subjects)
            if access_log is not None
            else None
        )
        self.parse_validate = ParseValidate(
            supergraph, self.caches, settings.limits or LimitSettings()
        )
        self.normalise = Normalise(supergraph, self.caches)
        self.authorise = Authorise(supergraph, settings.policies, settings.reject_unauthorized)
        self.plan = Plan(supergraph, self.caches, settings.override_labels, auditor)
        second_sight = self.caches.limits.second_sight
        self.introspection = Introspection(supergraph, settings.introspection, second_sight)
        self.execute = Execute(executor, self.introspection, access_log)
        self.shape = Shape(self.caches.limits, access_log)

    @property
    def executor(self) -> Executor:
        return self.execute.executor

    def limits_for(self, ctx: RequestContext) -> OperationLimits:
        return self.parse_validate.limits_for(ctx)

    def prepare(self, ctx: RequestContext) -> RequestContext | Failure:
        """Parse and validate (on the loop unless done already), normalise, authorise, plan, and
        compile the shaping: the operation ready to run for this caller, or why not."""
        for failure in self._stepwise(ctx):
            if failure is not None:
                return failure
        return ctx

    async def prepare_giving_way(self, ctx: RequestContext) -> RequestContext | Failure:
        """The same, with an anonymous request giving way to callers with a token after steps
        that took a while (new work, not a cache's answer): for an unseen operation the steps
        take up to some 1.5 ms each, 3 together (measured on the worst operations the limits
        admit)."""
        gives_way = priority.current() is not None
        since = time.perf_counter()
        for failure in self._stepwise(ctx):
            if failure is not None:
                return failure
            if gives_way and time.perf_counter() - since > _STRETCH:
                await priority.checkpoint()
                since = time.perf_counter()
        return ctx

    def _stepwise(self, ctx: RequestContext) -> Iterator[Failure | None]:
        """Runs the steps one at a time: None after each that went well, or the Failure that
        ends them."""
        try:
            for step in (self.parse_validate, self.normalise, self.authorise, self.plan):
                failure = step(ctx)
                yield failure
                if failure is not None:
                    return
            self.shape.compile(ctx)
        except RequestError as exc:  # e.g. a key's field set nested past the depth limit
            yield Failure.of(exc)
        except PlanningError as exc:
            yield self.plan.failed(ctx, exc)

    async def handle(self, ctx: RequestContext) -> Answer | Failure:
        await priority.checkpoint()  # an anonymous request lets callers with a token go first
        # parsed and validated off the event loop when new (gateway/limits/admission.py)
        await self.parse_validate.document_off_loop(ctx)
        prepared = await self.prepare_giving_way(ctx)
        if isinstance(prepared, Failure):
            return prepared
        request_log.named(need(ctx.definition))
        failure = await self.execute(ctx)
        if failure is not None:
            return failure
        data = await self.shape(ctx)
        if data and any(v is not None for v in data.values()):
            # answered with data: worth planning ahead for the next supergraph
            self.caches.record_answered(need(ctx.sent))
        return answer(ctx, data, self.supergraph, self.limits_for(ctx))

    async def warm(self, limit: int, seconds: float) -> int:
        """Parse, validate, normalize and plan, for this supergraph, the operations most
        recently answered with data (on any supergraph), so that a new schema does not start
        cold; an operation that only failed or was refused is never planned ahead. At most
        `limit` of them, and none once `seconds` have passed. Plans are made for callers who may
        read everything (the common case); an operation that no longer validates or plans is
        skipped (its clients will get the error when they send it)."""
        warmed = 0
        deadline = time.monotonic() + seconds
        admission = self.parse_validate.admission
        for sent in self.caches.answered.recent(limit):
            if time.monotonic() >= deadline:
                log.info("warm-up stopped after %g s, %d operations planned", seconds, warmed)
                break
            query = sent.query
            doc = await admission.document_off_loop(query)  # within the default limits
            if doc.document is None:
                continue
            try:
                operation = select_operation(doc.document, sent.operation_name)
                found = self.normalise.normalize(doc.document, operation, dict(sent.conditions))
                self.normalise.keep(sent, found)
                self.plan.ahead(found.operation, found.fingerprint)
            except (RequestError, PlanningError, GraphQLError) as exc:
                digest = hashlib.sha256(query.encode()).hexdigest()[:16]
                log.info("not warmed (%s): operation %s", type(exc).__name__, digest)
                continue
            warmed += 1
            await asyncio.sleep(0)  # planning is CPU: let requests in flight go on meanwhile
        return warmed
