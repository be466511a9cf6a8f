"""The in-memory caches a request goes through before it executes: parsed and validated
documents, normalized operations, and query plans.

Each is an LRU bounded by entries and by approximate bytes. The keys hold the schema's hash, so
the caches could outlive one supergraph: a document is validated against one schema, a plan
made for one set of subgraphs.

- documents: by query text;
- normalized operations: by query text, operation name and the values of the variables that
  decide `@skip`/`@include`;
- plans: by the normalized operation's fingerprint (two texts that differ only in layout,
  fragments or field order within a fragment share a plan), the fields authorisation denied
  this caller, and the progressive-override labels in force;
- answered: the operations (text, operation name, `@skip`/`@include` variables) that were
  answered with data (some root field not null) more than once, most recent last: what a new
  supergraph plans ahead (warm-up). An operation that only failed or was refused is never in it.

The first three and the answered operations keep an entry on its second offer (gateway/lru.py):
operations made up anew for each request do not fill them.

Sizes are estimates, not measurements (measuring a graph of objects costs more than planning
a small operation): a few constants per cache, calibrated against a deep `sys.getsizeof` walk
(see tests/gateway/test_operation_cache.py), within a factor of two for ordinary operations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, cast

from gateway.lru import LRU
from gateway.operation import NOperation, NSelection
from gateway.planning import QueryPlan
from gateway.value_text import arguments_text, variable_definition_text

DEFAULT_ENTRIES = 1000
DEFAULT_BYTES = 64 * 1024 * 1024

# bytes per parsed and validated document: a base, and per character of query text (graphql-core
# keeps every token with its location)
DOCUMENT_BASE, DOCUMENT_PER_CHAR = 8_000, 70
# bytes per normalized operation: a base, and per selected field (fragments expanded)
OPERATION_BASE, OPERATION_PER_FIELD = 600, 520
# bytes per plan: a base, per fetch, and per character of the fetches' documents
PLAN_BASE, PLAN_PER_FETCH, PLAN_PER_CHAR = 300, 700, 2
# bytes per answered operation: its key (the query text is shared with the document cache's)
ANSWERED_BASE, ANSWERED_PER_CHAR = 200, 1

T = TypeVar("T")
# the values of the variables that decide @skip/@include, by name
Conditions = tuple[tuple[str, bool], ...]

# The keys are named tuples: typed and read by name, hashed and compared at a tuple's cost (a
# lookup per cache per request).


class SentOperation(NamedTuple):
    """An operation as a client sent it: what it normalizes the same way for a given schema."""

    query: str
    operation_name: str | None
    conditions: Conditions = ()


class OperationKey(NamedTuple):
    """A normalized operation's key: the operation as sent, for one schema."""

    schema_hash: str
    sent: SentOperation


class PlanKey(NamedTuple):
    """A plan's key: the operation's fingerprint for one schema, and what else planning reads:
    the positions authorisation denied, the override labels in force, and the positions whose
    data subject the plan must select (gateway/ownership/guard.py)."""

    schema_hash: str
    fingerprint: str
    denied: tuple[str, ...] = ()
    labels: frozenset[str] = frozenset()
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CacheLimits:
    """The bounds of each of the three caches, and whether an entry made for a request is kept
    only on its second offer (gateway/lru.py)."""

    entries: int = DEFAULT_ENTRIES
    bytes: int = DEFAULT_BYTES
    second_sight: bool = True


@dataclass(frozen=True, slots=True)
class Normalized:
    operation: NOperation
    fingerprint: str
    fields: int


@dataclass(frozen=True, slots=True)
class Weighed(Generic[T]):
    """A cached value with its estimated size."""

    value: T
    weight: int


def _weight(key: Hashable, entry: Weighed[Any]) -> int:
    return entry.weight


def document_weight(query: str) -> int:
    return DOCUMENT_BASE + DOCUMENT_PER_CHAR * len(query)


def operation_weight(fields: int) -> int:
    return OPERATION_BASE + OPERATION_PER_FIELD * fields


def plan_weight(plan: QueryPlan) -> int:
    chars = sum(len(f.document) + len(f.selection) for f in plan.fetches)
    return PLAN_BASE + PLAN_PER_FETCH * len(plan.fetches) + PLAN_PER_CHAR * chars


class OperationCaches:
    def __init__(self, limits: CacheLimits | None = None) -> None:
        limits = limits or CacheLimits()
        self.limits = limits
        # entries made for a request are offered (kept on second sight: gateway/lru.py); the
        # warm-up puts what was answered before
        self.documents: LRU[Hashable, Weighed[Any]] = LRU(
            limits.entries, limits.bytes, _weight, second_sight=limits.second_sight
        )
        self.operations: LRU[OperationKey, Weighed[Normalized]] = LRU(
            limits.entries, limits.bytes, _weight, second_sight=limits.second_sight
        )
        self.plans: LRU[PlanKey, Weighed[QueryPlan]] = LRU(
            limits.entries, limits.bytes, _weight, second_sight=limits.second_sight
        )
        # what the warm-up plans: operations answered more than once
        self.answered: LRU[SentOperation, Weighed[None]] = LRU(
            limits.entries, limits.bytes, _weight, second_sight=limits.second_sight
        )

    def record_answered(self, sent: SentOperation) -> None:
        weight = ANSWERED_BASE + ANSWERED_PER_CHAR * len(sent.query)
        self.answered.offer(sent, Weighed(None, weight))

    def by_name(self) -> Iterator[tuple[str, LRU[Hashable, Any]]]:
        yield "document", self.documents
        yield "operation", cast("LRU[Hashable, Any]", self.operations)
        yield "plan", cast("LRU[Hashable, Any]", self.plans)
        yield "answered", cast("LRU[Hashable, Any]", self.answered)


def normalized(operation: NOperation) -> Normalized:
    """The operation with its fingerprint: a hash of everything planning reads from it."""
    parts: list[str] = [operation.kind.value, operation.name or ""]
    parts += map(variable_definition_text, operation.variable_definitions.values())
    fields = _describe(operation.root, parts)
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return Normalized(operation, digest, fields)


def _describe(nsel: NSelection, parts: list[str]) -> int:
    """Appends the selection's description to `parts`; returns how many fields it has."""
    parts.append(f"{{{nsel.type_name}:{int(nsel.abstract)}")
    count = 0
    for type_name, fields in nsel.by_type.items():
        parts.append(f"on {type_name}")
        for f in fields.values():
            count += 1
            arguments = arguments_text(f.arguments)
            parts.append(f"{f.response_key}:{f.name}({arguments})@{f.parent_type}")
            if f.selection is not None:
                count += _describe(f.selection, parts)
    parts.append("}")
    return count
