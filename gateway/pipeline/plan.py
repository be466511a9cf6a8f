"""Step 7, plan: the subgraph fetches for the caller's view of the operation (gateway/planning/),
cached by what planning reads: the operation's fingerprint, the fields denied, the override
labels in force and the positions whose data subject must be selected. Also the personal fields
the operation reads, for the access log (gateway/audit/)."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable

from gateway import tracing
from gateway.audit.reads import AuditPlan, AuditPlanner
from gateway.errors import PlanningError
from gateway.operation import NOperation
from gateway.operation_cache import OperationCaches, PlanKey, Weighed, plan_weight
from gateway.pipeline.context import RequestContext, need
from gateway.pipeline.failure import Failure
from gateway.planning import Planner, QueryPlan
from gateway.schema.supergraph import Supergraph

log = logging.getLogger("rugzak.request")

_PERCENT = re.compile(r"^percent\((\d+(?:\.\d+)?)\)$")


def active_override_labels(
    labels: frozenset[str], switched_on: frozenset[str], draw: Callable[[], float] = random.random
) -> frozenset[str]:
    """The progressive-override labels in force for one request: those switched on by
    configuration, and each `percent(N)` label with probability N%."""
    active = set()
    for label in labels:
        match = _PERCENT.match(label)
        if label in switched_on or (match and draw() * 100 < float(match.group(1))):
            active.add(label)
    return frozenset(active)


class Plan:
    def __init__(
        self,
        supergraph: Supergraph,
        caches: OperationCaches,
        override_labels: frozenset[str],
        auditor: AuditPlanner | None,
    ) -> None:
        self.supergraph = supergraph
        self.planner = Planner(supergraph)
        self.caches = caches  # shared with other supergraphs' handlers: keys hold the schema hash
        self.schema_hash = supergraph.schema_hash
        self.override_labels = override_labels  # switched on by configuration
        self.auditor = auditor  # None without an access log

    def __call__(self, ctx: RequestContext) -> Failure | None:
        authorized = need(ctx.authorized)
        op, guard = authorized.operation, authorized.guard
        labels = active_override_labels(self.supergraph.override_labels, self.override_labels)
        # the plan depends on the normalized operation, what the caller may not read, whose
        # data subjects it must see, and labels
        anchors = guard.positions if guard is not None else ()
        fingerprint = need(ctx.normalized).fingerprint
        key = PlanKey(self.schema_hash, fingerprint, authorized.denied, labels, anchors)
        ctx.audit = self.audit(op)
        cached = self.caches.plans.get(key)
        if cached is None:
            with tracing.step("plan"):
                schema = self.supergraph.api_schema
                try:
                    planned = op if guard is None else guard.subject_fields(op, schema)
                    if ctx.audit is not None:  # whose data each personal field is
                        planned = ctx.audit.subject_fields(planned, schema)
                    plan = self.planner.plan(planned, labels, authorized.denied_fields)
                except PlanningError as exc:
                    return self.failed(ctx, exc)
                cached = Weighed(plan, plan_weight(plan))
                self.caches.plans.offer(key, cached)
        ctx.plan = cached.value
        return None

    def failed(self, ctx: RequestContext, error: PlanningError) -> Failure:
        """A plan that cannot be made: a bug of ours or a supergraph's, logged (500)."""
        log.error("cannot plan operation %r: %s", ctx.operation_name, error.message)
        return Failure.of(error)

    def audit(self, op: NOperation) -> AuditPlan | None:
        return self.auditor.plan(op) if self.auditor is not None else None

    def ahead(self, op: NOperation, fingerprint: str) -> QueryPlan:
        """The plan for a caller who may read everything, made ahead of its requests (a new
        supergraph's warm-up) and kept; raises PlanningError."""
        audit = self.audit(op)
        planned = op if audit is None else audit.subject_fields(op, self.supergraph.api_schema)
        plan = self.planner.plan(planned, frozenset())
        self.caches.plans.put(
            PlanKey(self.schema_hash, fingerprint), Weighed(plan, plan_weight(plan))
        )
        return plan
