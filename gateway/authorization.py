"""Per-field authorisation from the schema's directives, before planning.

`@authenticated`, `@requiresScopes(scopes: [[...]])` and `@policy(policies: [[...]])` on a field,
on the type that declares it, or on the type it returns: a field the caller may not read is
marked denied in (a copy of) the normalized operation. The planner skips denied fields, so a
subgraph left with nothing to answer is not called; shaping answers each denied field with null
and an error `UNAUTHORIZED_FIELD_OR_TYPE` at its path, with ordinary null propagation, and the
rest of the operation runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, get_argument_values, get_named_type
from graphql.execution.values import VariableValues

from auth.principal import Principal
from gateway.errors import UNAUTHORIZED
from gateway.operation import NField, NOperation, NSelection
from gateway.policies import FieldRequest, PolicyRegistry, UnreadableArguments
from gateway.supergraph import AccessRule, Supergraph


class Authorizer:
    def __init__(self, supergraph: Supergraph, policies: PolicyRegistry | None = None):
        self.sg = supergraph
        self.policies = policies or PolicyRegistry()
        self.enabled = bool(supergraph.field_access or supergraph.type_access)

    def unknown_policies(self) -> list[str]:
        """Policy names the supergraph uses that nothing defines (they refuse every caller)."""
        rules = [*self.sg.field_access.values(), *self.sg.type_access.values()]
        return self.policies.unknown(n for r in rules for group in r.policies for n in group)

    def authorize(
        self,
        op: NOperation,
        principal: Principal,
        variables: VariableValues | None = None,
    ) -> tuple[NOperation, tuple[str, ...]]:
        """The operation with unreadable fields denied, and the denied positions (a cache key)."""
        if not self.enabled:
            return op, ()
        denied: list[str] = []
        walk = _Walk(self, principal, variables, denied)
        if op.guarded is None:
            op.guarded = list(self._guarded(op.root))
        if all(walk.allows(rule, f, parent) for f, parent, rules in op.guarded for rule in rules):
            return op, ()
        root = walk.selection(op.root, "")
        if not denied:
            return op, ()
        return replace(op, root=root), tuple(denied)

    def _guarded(self, nsel: NSelection) -> Iterator[tuple[NField, str, tuple[AccessRule, ...]]]:
        for parent, fields in nsel.by_type.items():
            for f in fields.values():
                if f.is_typename:
                    continue
                rules = _rules(self.sg, f, parent)
                if rules:
                    yield f, parent, rules
                if f.selection is not None:
                    yield from self._guarded(f.selection)


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
        denied: list[str],
    ) -> None:
        self.sg = authorizer.sg
        self.policies = authorizer.policies
        self.principal = principal
        self.authenticated = not principal.is_anonymous
        self.variables = variables
        self.denied = denied

    def selection(self, nsel: NSelection, path: str) -> NSelection:
        by_type: dict[str, dict[str, NField]] = {}
        changed = False
        for type_name, fields in nsel.by_type.items():
            out: dict[str, NField] = {}
            for key, f in fields.items():
                checked = self.field(f, type_name, f"{path}/{type_name}.{key}")
                changed |= checked is not f
                out[key] = checked
            by_type[type_name] = out
        return NSelection(nsel.type_name, nsel.abstract, by_type) if changed else nsel

    def field(self, f: NField, parent: str, path: str) -> NField:
        if f.is_typename:
            return f
        if not all(self.allows(rule, f, parent) for rule in _rules(self.sg, f, parent)):
            self.denied.append(path)
            return replace(f, selection=None, denied=UNAUTHORIZED)
        if f.selection is None:
            return f
        selection = self.selection(f.selection, path)
        return f if selection is f.selection else replace(f, selection=selection)

    def allows(self, rule: AccessRule, f: NField, parent: str) -> bool:
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
        )
        try:
            return any(
                all(self.policies.resolve(name)(request) for name in group)
                for group in rule.policies
            )
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
