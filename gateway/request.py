"""One GraphQL request's way through the gateway: parse and validate (cached), pick the
operation, coerce variables, plan (cached), execute, shape."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
)
from graphql.execution.values import get_variable_values

from auth.principal import ANONYMOUS, Principal
from gateway import request_log, tracing
from gateway.audit.log import UNAVAILABLE, AccessLog
from gateway.audit.reads import AuditPlan, AuditPlanner, drop_subject_errors
from gateway.authorization import Authorizer, hint_no_token
from gateway.cache.status import CacheStatus
from gateway.errors import (
    INTROSPECTION_DISABLED,
    UNAUTHORIZED,
    PlanningError,
    RequestError,
    graphql_error,
)
from gateway.execution.credentials import StaticHeaders, SubgraphHeaders
from gateway.execution.executor import ExecutionState, Executor
from gateway.execution.shaping import ShapeKey, ShapeProgram, ShapePrograms, Shaper
from gateway.http.caching import NO_STORE, cache_control, reads_guarded
from gateway.limits import LimitSettings, OperationLimits, priority
from gateway.limits.admission import Admission, Document, Refused, admission_thread
from gateway.limits.priority import Pauser
from gateway.limits.refusal import LimitExceeded
from gateway.lru import LRU
from gateway.operation import (
    INTROSPECTION_FIELDS,
    NOperation,
    normalize,
    select_operation,
)
from gateway.operation_cache import (
    OperationCaches,
    OperationKey,
    PlanKey,
    SentOperation,
    Weighed,
    normalized,
    operation_weight,
    plan_weight,
)
from gateway.ownership.guard import Ownership, OwnershipGuard
from gateway.planning import Planner, QueryPlan
from gateway.planning.render import plan_json
from gateway.policies import PolicyRegistry
from gateway.schema.supergraph import Supergraph
from gateway.telemetry import variable_error

log = logging.getLogger("rugzak.request")


@dataclass(frozen=True, slots=True)
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    subgraph_requests: int = 0
    # HIT, PARTIAL, MISS or BYPASS, when the request asked what came from the cache
    cache_status: str | None = None
    # the operation parsed, validated and was within its client's limits (so it may be
    # registered as a persisted query)
    admitted: bool = False
    # it never ran: the document did not parse or validate, or its variables did not coerce
    # (the HTTP status then depends on the response's media type: gateway/http/media_types.py)
    request_error: bool = False
    # the answer's own Cache-Control (gateway/http/caching.py)
    cache_control: str = NO_STORE


@dataclass(frozen=True, slots=True)
class Prepared:
    """An operation ready to run for one caller."""

    operation: NOperation  # the caller's view: unreadable fields cut off (authorisation's)
    plan: QueryPlan
    definition: OperationDefinitionNode
    document: DocumentNode
    guard: OwnershipGuard | None  # fields readable only on the caller's own entities
    shaping: ShapeProgram  # how the answer is shaped, unreadable fields answered null
    sent: SentOperation  # as sent, with the @skip/@include values it was normalized with
    cost: int = 0  # estimated (gateway/limits/cost.py)
    audit: AuditPlan | None = None  # the personal fields it reads, for the access log


def _located(error: GraphQLError, code: str, message: str | None = None) -> dict[str, Any]:
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return graphql_error(message or error.message, code, locations=locations or None)


def _refusal(error: LimitExceeded) -> GraphQLResponse:
    return GraphQLResponse(error.status, {"errors": [error.to_graphql()]})


def _cost_json(cost: int, limits: OperationLimits) -> dict[str, int]:
    return {"estimated": cost, "limit": limits.max_cost}


INTROSPECTION_ENTRIES, INTROSPECTION_BYTES = 256, 16 * 1024 * 1024


def _introspection_weight(key: tuple[str, str | None, bytes], answer: bytes) -> int:
    return 200 + len(key[0]) + len(key[2]) + len(answer)


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


class RequestHandler:
    """Everything that depends on one supergraph; replaced whole when the supergraph changes."""

    def __init__(
        self,
        supergraph: Supergraph,
        executor: Executor,
        caches: OperationCaches | None = None,
        override_labels: frozenset[str] = frozenset(),
        policies: PolicyRegistry | None = None,
        reject_unauthorized: bool = False,
        limits: LimitSettings | None = None,
        access_log: AccessLog | None = None,
        introspection: str = "all",
    ) -> None:
        self.supergraph = supergraph
        # who may query __schema and __type: "all", "authenticated" callers, or "none"
        self.introspection_for = introspection
        self.executor = executor
        self.planner = Planner(supergraph)
        self.override_labels = override_labels
        self.authorizer = Authorizer(supergraph, policies)
        self.reject_unauthorized = reject_unauthorized
        self.access_log = access_log
        self.auditor = (
            AuditPlanner(supergraph.personal_fields, supergraph.data_subjects)
            if access_log is not None
            else None
        )
        # parsed documents, normalized operations and plans: may be shared with the handlers
        # of other supergraphs, so every key starts with this one's schema hash
        self.caches = caches or OperationCaches()
        self.schema_hash = supergraph.schema_hash
        # compiled shaping per operation and denied fields (this supergraph's types)
        bounds = self.caches.limits
        self.shapes = ShapePrograms(bounds.entries, bounds.bytes, bounds.second_sight)
        # size, shape and cost limits, checked before the work they bound
        self.admission = Admission(supergraph, self.caches, limits or LimitSettings())
        # answers to introspection, by query text, operation name and variables
        self.introspection: LRU[tuple[str, str | None, bytes], bytes] = LRU(
            INTROSPECTION_ENTRIES,
            INTROSPECTION_BYTES,
            _introspection_weight,
            second_sight=bounds.second_sight,
        )

    def limits_for(self, principal: Principal) -> OperationLimits:
        return self.admission.settings.for_principal(principal)

    def document(self, query: str, limits: OperationLimits | None = None) -> Document:
        """The parsed and validated document, or why not; within `limits` (the defaults when
        None) or refused for them (`refused`, not cached: another client's may be wider)."""
        return self.admission.document(query, limits)

    def prepare(
        self,
        query: str,
        operation_name: str | None,
        raw_variables: Mapping[str, Any],
        allow_mutation: bool = True,
        principal: Principal = ANONYMOUS,
        include_cost: bool = False,
        document: Document | None = None,
    ) -> GraphQLResponse | Prepared:
        """`document`: the query's, when the caller has it already (for this principal)."""
        limits = self.limits_for(principal)
        doc = document or self.document(query, limits)
        if doc.refused is not None:
            return _refusal(doc.refused)
        if doc.document is None:
            parse_failed = doc.errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
            if parse_failed:
                return GraphQLResponse(400, {"errors": list(doc.errors)}, request_error=True)
            failed = {"data": None, "errors": list(doc.errors)}
            return GraphQLResponse(200, failed, request_error=True)
        operation = select_operation(doc.document, operation_name)
        if not allow_mutation and operation.operation != OperationType.QUERY:
            raise RequestError(
                f"Can only perform a {operation.operation.value} operation from a POST request.",
                "METHOD_NOT_ALLOWED",
            )
        if operation.operation == OperationType.SUBSCRIPTION:
            raise RequestError("Subscriptions are not supported.", "OPERATION_NOT_SUPPORTED")
        coerced = get_variable_values(
            self.supergraph.api_schema, operation.variable_definitions or (), dict(raw_variables)
        )
        if isinstance(coerced, list):
            errors = [_located(e, "BAD_USER_INPUT", variable_error(e)) for e in coerced]
            return GraphQLResponse(400, {"errors": errors}, request_error=True)
        values = coerced.coerced
        try:
            cost = self.admission.cost(doc, operation, values, limits)
        except Refused as exc:
            body: dict[str, Any] = {"errors": [exc.error.to_graphql()]}
            if include_cost and exc.cost is not None:
                body["extensions"] = {"cost": _cost_json(exc.cost, limits)}
            return GraphQLResponse(exc.error.status, body)
        conditions = tuple(sorted((n, bool(values.get(n))) for n in doc.conditions))
        sent = SentOperation(query, operation_name, conditions)
        op_key = OperationKey(self.schema_hash, sent)
        cached_op = self.caches.operations.get(op_key)
        if cached_op is None:
            with tracing.step("normalize"):
                schema = self.supergraph.api_schema
                found = normalized(normalize(schema, doc.document, operation, values))
                cached_op = Weighed(found, operation_weight(found.fields))
                self.caches.operations.offer(op_key, cached_op)
        with tracing.step("authorize"):
            authorized = self.authorizer.authorize(cached_op.value.operation, principal, coerced)
        op, denied, guard = authorized.operation, authorized.denied, authorized.guard
        fingerprint = cached_op.value.fingerprint
        if denied and self.reject_unauthorized:
            error = graphql_error(
                "The operation reads fields the caller may not read.", UNAUTHORIZED
            )
            if principal.is_anonymous:
                hint_no_token([error])
            return GraphQLResponse(403, {"errors": [error]})
        labels = active_override_labels(self.supergraph.override_labels, self.override_labels)
        # the plan depends on the normalized operation, what the caller may not read, whose
        # data subjects it must see, and labels
        anchors = guard.positions if guard is not None else ()
        key = PlanKey(self.schema_hash, fingerprint, denied, labels, anchors)
        audit = self.auditor.plan(op) if self.auditor is not None else None
        cached_plan = self.caches.plans.get(key)
        if cached_plan is None:
            with tracing.step("plan"):
                schema = self.supergraph.api_schema
                planned = op if guard is None else guard.subject_fields(op, schema)
                if audit is not None:  # whose data each personal field is: a function of `op`
                    planned = audit.subject_fields(planned, schema)
                plan = self.planner.plan(planned, labels, authorized.denied_fields)
                cached_plan = Weighed(plan, plan_weight(plan))
                self.caches.plans.offer(key, cached_plan)
        shaping = self.shapes.program(ShapeKey(fingerprint, denied), op, authorized.denied_fields)
        return Prepared(
            op, cached_plan.value, operation, doc.document, guard, shaping, sent, cost, audit
        )

    async def warm(self, limit: int, seconds: float) -> int:
        """Parse, validate, normalize and plan, for this supergraph, the operations most
        recently answered with data (on any supergraph), so that a new schema does not start
        cold; an operation that only failed or was refused is never planned ahead. At most
        `limit` of them, and none once `seconds` have passed. Plans are made for callers who may
        read everything (the common case); an operation that no longer validates or plans is
        skipped (its clients will get the error when they send it)."""
        warmed = 0
        schema = self.supergraph.api_schema
        deadline = time.monotonic() + seconds
        for sent in self.caches.answered.recent(limit):
            if time.monotonic() >= deadline:
                log.info("warm-up stopped after %g s, %d operations planned", seconds, warmed)
                break
            query = sent.query
            doc = await self.admission.document_off_loop(query)  # within the default limits
            if doc.document is None:
                continue
            try:
                operation = select_operation(doc.document, sent.operation_name)
                variables = dict(sent.conditions)
                found = normalized(normalize(schema, doc.document, operation, variables))
                op_key = OperationKey(self.schema_hash, sent)
                self.caches.operations.put(op_key, Weighed(found, operation_weight(found.fields)))
                planned = found.operation
                audit = self.auditor.plan(planned) if self.auditor is not None else None
                if audit is not None:
                    planned = audit.subject_fields(planned, schema)
                plan = self.planner.plan(planned, frozenset())
            except (RequestError, PlanningError, GraphQLError) as exc:
                digest = hashlib.sha256(query.encode()).hexdigest()[:16]
                log.info("not warmed (%s): operation %s", type(exc).__name__, digest)
                continue
            plan_key = PlanKey(self.schema_hash, found.fingerprint)
            self.caches.plans.put(plan_key, Weighed(plan, plan_weight(plan)))
            warmed += 1
            await asyncio.sleep(0)  # planning is CPU: let requests in flight go on meanwhile
        return warmed

    async def handle(
        self,
        query: str,
        operation_name: str | None,
        raw_variables: Mapping[str, Any],
        headers: SubgraphHeaders | Mapping[str, str],
        allow_mutation: bool = True,
        include_plan: bool = False,
        principal: Principal = ANONYMOUS,
        include_cache_status: bool = False,
        include_cost: bool = False,
    ) -> GraphQLResponse:
        # parsed and validated off the event loop when new (gateway/limits/admission.py)
        with tracing.step("parse_validate"):
            doc = await self.admission.document_off_loop(query, self.limits_for(principal))
        try:
            prepared = self.prepare(
                query,
                operation_name,
                raw_variables,
                allow_mutation,
                principal,
                include_cost,
                doc,
            )
        except RequestError as exc:
            status = 405 if exc.code == "METHOD_NOT_ALLOWED" else 400
            return GraphQLResponse(status, {"errors": [exc.to_graphql()]})
        except PlanningError as exc:
            log.error("cannot plan operation %r: %s", operation_name, exc.message)
            return GraphQLResponse(500, {"errors": [exc.to_graphql()]})
        if isinstance(prepared, GraphQLResponse):
            return prepared
        request_log.named(prepared.definition)
        audit, access_log = prepared.audit, self.access_log
        if audit is not None and access_log is not None and access_log.refuses(principal):
            message = "Personal data cannot be read now: the access log cannot record it."
            return GraphQLResponse(503, {"errors": [graphql_error(message, UNAVAILABLE)]})
        op, plan, operation, document = (
            prepared.operation,
            prepared.plan,
            prepared.definition,
            prepared.document,
        )
        if plan.has_introspection and not self._may_introspect(principal):
            return GraphQLResponse(403, {"errors": [_introspection_refused(principal)]})
        variables = {k: v for k, v in raw_variables.items() if k in op.variable_definitions}
        # the entity cache serves queries only: a mutation's entity fetches must see its effects
        state = ExecutionState(
            principal=principal if operation.operation == OperationType.QUERY else None,
            cache_status=CacheStatus() if include_cache_status else None,
        )
        if prepared.guard is not None:
            state.ownership = Ownership(prepared.guard, principal.insz, plan)
        await priority.checkpoint()  # an anonymous request lets callers with a token go first
        if plan.fetches:
            if isinstance(headers, Mapping):  # the same for every subgraph
                headers = StaticHeaders(headers)
            with tracing.step("execute"):
                await self.executor.execute(plan, variables, headers, state)
            await priority.checkpoint()
        if plan.has_introspection:
            await self._introspect(document, operation, raw_variables, state, query)
        if state.ownership is not None:
            state.ownership.enforce(state.data, state.errors)
        elif audit is not None:  # the subjects the log asked for are not the client's business
            drop_subject_errors(state.errors)
        errors = state.errors
        with tracing.step("shape"):
            data = Shaper(errors, state.explained).shape(prepared.shaping, state.data)
        if principal.is_anonymous:
            hint_no_token(errors)
        if audit is not None and access_log is not None:
            await access_log.record(audit, state.data, errors, principal, query)
        body: dict[str, Any] = {"data": data}
        if errors:
            body = {"errors": errors, "data": data}
        if data and any(v is not None for v in data.values()):
            # answered with data: worth planning ahead for the next supergraph
            self.caches.record_answered(prepared.sent)
        extensions: dict[str, Any] = {}
        if include_plan:
            extensions["queryPlan"] = plan_json(plan)
        if state.cache_status is not None:
            extensions["cacheStatus"] = state.cache_status.to_json()
        if include_cost:
            extensions["cost"] = _cost_json(prepared.cost, self.limits_for(principal))
        if extensions:
            body["extensions"] = extensions
        summary = state.cache_status.summary if state.cache_status is not None else None
        query_op = operation.operation == OperationType.QUERY
        control = cache_control(
            state.cache_hints,
            query=query_op,
            errors=bool(errors),
            guarded=query_op and (prepared.guard is not None or reads_guarded(op, self.supergraph)),
            credentials=not principal.is_anonymous,
        )
        return GraphQLResponse(
            200, body, state.subgraph_calls, summary, admitted=True, cache_control=control
        )

    def _may_introspect(self, principal: Principal) -> bool:
        if self.introspection_for == "all":
            return True
        return self.introspection_for == "authenticated" and not principal.is_anonymous

    async def _introspect(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        state: ExecutionState,
        query: str = "",
    ) -> None:
        """__schema and __type are answered from the API schema by graphql-core; the answer
        depends only on the query and its variables, so it is kept (bounded) for the next."""
        name = operation.name.value if operation.name else None
        key = (query, name, orjson.dumps(dict(variables), option=orjson.OPT_SORT_KEYS))
        known = self.introspection.get(key) if query else None
        if known is None:
            gives_way = priority.current()
            if gives_way is None:
                answer = self._execute_introspection(document, operation, variables)
            else:  # anonymous: in its thread, pausing while callers with a token are served
                answer = await asyncio.get_running_loop().run_in_executor(
                    admission_thread(True),
                    self._execute_introspection,
                    document,
                    operation,
                    variables,
                    Pauser(gives_way),
                )
            known = orjson.dumps(answer)
            if query:
                self.introspection.offer(key, known)
        answer = orjson.loads(known)  # a copy: the response is built from it
        state.data.update(answer["data"] or {})
        state.errors.extend(answer["errors"])

    def _execute_introspection(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        pauser: Pauser | None = None,
    ) -> dict[str, Any]:
        fields = [
            s
            for s in operation.selection_set.selections
            if isinstance(s, FieldNode) and s.name.value in INTROSPECTION_FIELDS
        ]
        only = OperationDefinitionNode(
            operation=OperationType.QUERY,
            variable_definitions=operation.variable_definitions,
            selection_set=SelectionSetNode(selections=tuple(fields)),
        )
        others = tuple(
            d for d in document.definitions if not isinstance(d, OperationDefinitionNode)
        )
        result = execute(
            self.supergraph.api_schema,
            DocumentNode(definitions=(only, *others)),
            variable_values=dict(variables),
            middleware=None if pauser is None else [pauser],
        )
        assert isinstance(result, ExecutionResult)
        errors = [dict(error.formatted) for error in result.errors or ()]
        return {"data": result.data, "errors": errors}


def _introspection_refused(principal: Principal) -> dict[str, Any]:
    message = (
        "Introspection (__schema, __type) is disabled for anonymous callers: send a token."
        if principal.is_anonymous
        else "Introspection (__schema, __type) is disabled on this gateway."
    )
    return graphql_error(message, INTROSPECTION_DISABLED)
