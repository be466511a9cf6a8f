"""One GraphQL request as it goes through the pipeline: what the caller sent, and what each step
made of it, in the order the steps run (gateway/pipeline/__init__.py). A step reads what the
steps before it left here and adds its own; `need` reads a product its step must have made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import OperationDefinitionNode
from graphql.execution.values import VariableValues

from auth.principal import ANONYMOUS, Principal
from gateway.audit.reads import AuditPlan
from gateway.authorization import AuthorizationResult
from gateway.execution.credentials import SubgraphHeaders
from gateway.execution.shaping import ShapeProgram
from gateway.execution.state import ExecutionState
from gateway.limits import OperationLimits
from gateway.limits.admission import Document
from gateway.operation_cache import Normalized, SentOperation
from gateway.planning import QueryPlan

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Asks:
    """What the caller asked to see besides the answer (in `extensions`)."""

    plan: bool = False  # extensions.queryPlan
    cache_status: bool = False  # extensions.cacheStatus and the cache-status header
    cost: bool = False  # extensions.cost


@dataclass(slots=True)
class RequestContext:
    # what the caller sent: parameters, authenticate and admit made these (the constructor's
    # arguments; the steps' products below are not)
    query: str
    operation_name: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    principal: Principal = ANONYMOUS
    allow_mutation: bool = True  # False over GET
    asks: Asks = field(default_factory=Asks)
    headers: SubgraphHeaders | Mapping[str, str] = field(default_factory=dict)  # for subgraphs
    # parse and validate: the document within the caller's limits, the operation chosen from it,
    # its variables coerced, its estimated cost, the operation as sent (a cache key)
    limits: OperationLimits | None = field(default=None, init=False)
    document: Document | None = field(default=None, init=False)
    definition: OperationDefinitionNode | None = field(default=None, init=False)
    coerced: VariableValues | None = field(default=None, init=False)
    cost: int = field(default=0, init=False)
    sent: SentOperation | None = field(default=None, init=False)
    # normalise: the operation with fragments expanded and @skip/@include decided
    normalized: Normalized | None = field(default=None, init=False)
    # authorise: the caller's view (unreadable fields cut off) and its ownership guard
    authorized: AuthorizationResult | None = field(default=None, init=False)
    # plan: the subgraph fetches, and the personal fields it reads for the access log
    plan: QueryPlan | None = field(default=None, init=False)
    audit: AuditPlan | None = field(default=None, init=False)
    # shape (compiled before execution: it depends on the operation only)
    shaping: ShapeProgram | None = field(default=None, init=False)
    # execute: the merged data and errors of the subgraphs' answers
    state: ExecutionState | None = field(default=None, init=False)


def need(product: T | None) -> T:
    """A step's product that a later step reads: missing only if the pipeline ran out of order."""
    if product is None:
        raise RuntimeError("a pipeline step ran before the step it depends on")
    return product
