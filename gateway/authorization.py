"""Per-field authorisation from the schema's directives, before planning.

`@authenticated`, `@requiresScopes(scopes: [[...]])` and `@policy(policies: [[...]])` on a field,
on the type that declares it, or on the type it returns: a field the caller may not read is
denied. The result is a value of its own (`AuthorizationResult`), per operation and kind of
caller; the normalized operation, shared by every caller, is never changed. The planner skips
denied fields, so a subgraph left with nothing to answer is not called; shaping answers each
denied field with null and an error `UNAUTHORIZED_FIELD_OR_TYPE` at its path, with ordinary null
propagation, and the rest of the operation runs.

A policy may hold only for the caller's own data (`citizen-self` for a citizen): such a field is
not denied but *bound* to its entity's data subject, and checked per object of the answer
(gateway/ownership/guard.py). The walk passes down the nearest entity type that declares a data
subject, so a value reached through a citizen (an entitlement's bank account) is bound to that
citizen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLError, GraphQLObjectType, get_argument_values, get_named_type
from graphql.execution.values import VariableValues

from auth.principal import Principal
from gateway.errors import UNAUTHORIZED
from gateway.operation import NField, NOperation, NSelection
from gateway.ownership.guard import SUBJECT_KEY, Anchor, GuardNode, OwnershipGuard
from gateway.policies import (
    SUBJECT_IS_CALLER,
    FieldRequest,
    PolicyRegistry,
    UnreadableArguments,
    Verdict,
    verdict,
)
from gateway.schema.supergraph import AccessRule, Supergraph


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """One kind of caller's view of an operation.

    `operation` is the normalized operation itself when nothing is denied; otherwise a copy in
    which each denied field is cut off below (no selection) and named in `denied_fields`, the
    fields that planning skips and shaping answers with null and an error. `denied` holds their
    positions (a plan cache key); `guard`, the fields bound to their entity's data subject (None:
    there are none)."""

    operation: NOperation
    denied: tuple[str, ...] = ()
    denied_fields: frozenset[NField] = frozenset()
    guard: OwnershipGuard | None = None


# (field, its parent type, its rules, the nearest type with a data subject on the way)
_Guarded = tuple[NField, str, tuple[AccessRule, ...], str | None]


_RESULTS_PER_OPERATION = 32


@dataclass(frozen=True, slots=True)
class _Outcome:
    """An AuthorizationResult without the operation when it is the operation itself: kept
    beside the operation, it must not hold it (see `Authorizer._operations`)."""

    view: NOperation | None  # None: the operation itself
    denied: tuple[str, ...]
    denied_fields: frozenset[NField]
    guard: OwnershipGuard | None

    def of(self, op: NOperation) -> AuthorizationResult:
        view = op if self.view is None else self.view
        return AuthorizationResult(view, self.denied, self.denied_fields, self.guard)


@dataclass(slots=True)
class _Known:
    """What authorisation learned of one normalized operation."""

    guarded: list[_Guarded]
    # the verdicts on its guarded fields -> what callers with those verdicts get
    results: dict[tuple[Verdict, ...], _Outcome] = field(default_factory=dict)


class Authorizer:
    def __init__(self, supergraph: Supergraph, policies: PolicyRegistry | None = None):
        self.sg = supergraph
        self.policies = policies or PolicyRegistry()
        self.enabled = bool(supergraph.field_access or supergraph.type_access)
        self.subjects = supergraph.data_subjects
        schema = supergraph.api_schema
        roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
        self.root_types = frozenset(t.name for t in roots if t is not None)
        # per normalized operation: its fields under an access rule (found once, so that a
        # request whose caller may read everything costs only these checks) and its results;
        # for as long as the operation lives (in the operation cache, or for one request when
        # it is not kept there: an operation sent once is not remembered here either)
        self._operations: WeakKeyDictionary[NOperation, _Known] = WeakKeyDictionary()

    def unknown_policies(self) -> list[str]:
        """Policy names the supergraph uses that nothing defines (they refuse every caller)."""
        rules = [*self.sg.field_access.values(), *self.sg.type_access.values()]
        return self.policies.unknown(n for r in rules for group in r.policies for n in group)

    def authorize(
        self,
        op: NOperation,
        principal: Principal,
        variables: VariableValues | None = None,
    ) -> AuthorizationResult:
        if not self.enabled:
            return AuthorizationResult(op)
        walk = _Walk(self, principal, variables)
        known = self._known(op)
        # every decision of the walk below is one of these verdicts: callers who get the same
        # ones (most do: "a citizen at level substantial") get the same result, walked once
        verdicts = tuple(
            walk.verdict(rule, f, parent, anchor)
            for f, parent, rules, anchor in known.guarded
            for rule in rules
        )
        if all(v is True for v in verdicts):
            return AuthorizationResult(op)
        outcome = known.results.get(verdicts)
        if outcome is None:
            found = self._walk(op, walk)
            outcome = _Outcome(
                None if found.operation is op else found.operation,
                found.denied,
                found.denied_fields,
                found.guard,
            )
            if len(known.results) >= _RESULTS_PER_OPERATION:
                known.results.clear()
            known.results[verdicts] = outcome
            return found
        return outcome.of(op)

    def _walk(self, op: NOperation, walk: _Walk) -> AuthorizationResult:
        root, guard = walk.selection(op.root, "", None)
        guarded = None
        if guard is not None and not guard.is_empty():
            guarded = OwnershipGuard(guard, tuple(walk.anchors))
        if not walk.denied:
            return AuthorizationResult(op, guard=guarded)
        return AuthorizationResult(
            replace(op, root=root), tuple(walk.denied), frozenset(walk.denied_fields), guarded
        )

    def _known(self, op: NOperation) -> _Known:
        found = self._operations.get(op)
        if found is None:
            found = self._operations[op] = _Known(list(self._find_guarded(op.root, None)))
        return found

    def _find_guarded(self, nsel: NSelection, anchor: str | None) -> Iterator[_Guarded]:
        for parent, fields in nsel.by_type.items():
            here = parent if parent in self.subjects else anchor
            for f in fields.values():
                if f.is_typename:
                    continue
                rules = _rules(self.sg, f, parent)
                if rules:
                    yield f, parent, rules, here
                if f.selection is not None:
                    yield from self._find_guarded(f.selection, here)


def _rules(sg: Supergraph, f: NField, parent: str) -> tuple[AccessRule, ...]:
    """The rules on a field: its own, its parent type's, and those of the type it returns."""
    named = get_named_type(f.type)
    found = (
        sg.field_access.get((parent, f.name)),
        sg.type_access.get(parent),
        sg.type_access.get(named.name) if named else None,
    )
    return tuple(rule for rule in found if rule is not None)


class _Walk:
    """One authorisation pass over an operation for one caller."""

    def __init__(
        self,
        authorizer: Authorizer,
        principal: Principal,
        variables: VariableValues | None,
    ) -> None:
        self.sg = authorizer.sg
        self.policies = authorizer.policies
        self.subjects = authorizer.subjects
        self.root_types = authorizer.root_types
        self.principal = principal
        self.authenticated = not principal.is_anonymous
        self.variables = variables
        self.denied: list[str] = []
        self.denied_fields: list[NField] = []  # the cut-off copies, at those positions
        self.anchors: list[str] = []  # positions whose subject is selected: a plan cache key

    def selection(
        self, nsel: NSelection, path: str, anchor: str | None
    ) -> tuple[NSelection, GuardNode | None]:
        """The selection with unreadable fields denied, and its bound fields (None: none)."""
        by_type: dict[str, dict[str, NField]] = {}
        changed = False
        guard = GuardNode(None if nsel.abstract else nsel.type_name)
        for type_name, fields in nsel.by_type.items():
            here = type_name if type_name in self.subjects else anchor
            out: dict[str, NField] = {}
            for key, f in fields.items():
                checked, bound, below = self.field(f, type_name, f"{path}/{type_name}.{key}", here)
                changed |= checked is not f
                out[key] = checked
                if bound:
                    guard.bound.setdefault(type_name, {})[key] = f"{type_name}.{f.name}"
                if below is not None:
                    guard.children.setdefault(type_name, {})[key] = below
            by_type[type_name] = out
            if type_name in self.subjects and (
                type_name in guard.bound or type_name in guard.children
            ):
                taken = fields.keys()
                key = SUBJECT_KEY
                while key in taken:
                    key += "_"
                guard.anchors[type_name] = Anchor(self.subjects[type_name], key)
                self.anchors.append(f"{path}/{type_name}")
        result = NSelection(nsel.type_name, nsel.abstract, by_type) if changed else nsel
        return result, (None if guard.is_empty() else guard)

    def field(
        self, f: NField, parent: str, path: str, anchor: str | None
    ) -> tuple[NField, bool, GuardNode | None]:
        """The field (denied if unreadable), whether it is bound, and its guard below."""
        if f.is_typename:
            return f, False, None
        found: Verdict = True
        for rule in _rules(self.sg, f, parent):
            result = self.verdict(rule, f, parent, anchor)
            if result is False:
                self.denied.append(path)
                cut = replace(f, selection=None)
                self.denied_fields.append(cut)
                return cut, False, None
            if result is SUBJECT_IS_CALLER:
                found = SUBJECT_IS_CALLER
        bound = found is SUBJECT_IS_CALLER
        if f.selection is None:
            return f, bound, None
        selection, below = self.selection(f.selection, path, anchor)
        checked = f if selection is f.selection else replace(f, selection=selection)
        return checked, bound, below

    def verdict(self, rule: AccessRule, f: NField, parent: str, anchor: str | None) -> Verdict:
        if rule.authenticated and not self.authenticated:
            return False
        if rule.scopes and not any(group <= self.principal.scopes for group in rule.scopes):
            return False
        if not rule.policies:
            return True
        parent_type = self.sg.api_schema.get_type(parent)
        field_def = (
            parent_type.fields.get(f.name) if isinstance(parent_type, GraphQLObjectType) else None
        )
        request = FieldRequest(
            self.principal,
            f"{parent}.{f.name}",
            lambda: self.arguments(f, parent),
            field_def.args if field_def is not None else (),
            on_root=parent in self.root_types,
            subject_type=anchor,
        )
        try:
            return verdict(self.policies, rule.policies, request)
        except UnreadableArguments:  # arguments that cannot be coerced satisfy no policy
            return False

    def arguments(self, f: NField, parent: str) -> Mapping[str, Any] | None:
        parent_type = self.sg.api_schema.get_type(parent)
        if not isinstance(parent_type, GraphQLObjectType) or f.name not in parent_type.fields:
            return None
        try:
            return get_argument_values(parent_type.fields[f.name], f.nodes[0], self.variables)
        except GraphQLError:
            return None


# An anonymous caller is told why: the message alone reads as if the token were wrong.
NO_TOKEN_HINT = " (no token was sent: send one as Authorization: Bearer TOKEN)"


def hint_no_token(errors: list[dict[str, Any]]) -> None:
    """Add to each authorisation error of an anonymous request that no token came with it."""
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        message = error.get("message")
        if code == UNAUTHORIZED and isinstance(message, str) and NO_TOKEN_HINT not in message:
            error["message"] = message + NO_TOKEN_HINT
