"""Per-field authorisation from the schema's directives, before planning.

`@authenticated`, `@requiresScopes(scopes: [[...]])` and `@policy(policies: [[...]])` on a field,
on the type that declares it, or on the type it returns: a field the caller may not read is
marked denied in (a copy of) the normalized operation. The planner skips denied fields, so a
subgraph left with nothing to answer is not called; shaping answers each denied field with null
and an error `UNAUTHORIZED_FIELD_OR_TYPE` at its path, with ordinary null propagation, and the
rest of the operation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, get_argument_values, get_named_type
from graphql.execution.values import VariableValues

from auth.principal import Principal
from gateway.errors import UNAUTHORIZED
from gateway.operation import NField, NOperation, NSelection
from gateway.policies import FieldRequest, PolicyRegistry
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
        root = walk.selection(op.root, "")
        if not denied:
            return op, ()
        return replace(op, root=root), tuple(denied)


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
        named = get_named_type(f.type)
        rules = (
            self.sg.field_access.get((parent, f.name)),
            self.sg.type_access.get(parent),
            self.sg.type_access.get(named.name) if named else None,
        )
        if not all(self.allows(rule, f, parent) for rule in rules if rule is not None):
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
        arguments = self.arguments(f, parent)
        if arguments is None:  # arguments that cannot be read satisfy no policy
            return False
        request = FieldRequest(self.principal, f"{parent}.{f.name}", arguments)
        return any(
            all(self.policies.resolve(name)(request) for name in group) for group in rule.policies
        )

    def arguments(self, f: NField, parent: str) -> Mapping[str, Any] | None:
        parent_type = self.sg.api_schema.get_type(parent)
        if not isinstance(parent_type, GraphQLObjectType) or f.name not in parent_type.fields:
            return None
        try:
            return get_argument_values(parent_type.fields[f.name], f.nodes[0], self.variables)
        except GraphQLError:
            return None
