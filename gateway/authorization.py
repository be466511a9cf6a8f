"""Per-field authorisation from the schema's directives, before planning.

`@authenticated`, `@requiresScopes(scopes: [[...]])` and `@policy(policies: [[...]])` on a field,
on the type that declares it, or on the type it returns: a field the caller may not read is
marked denied in (a copy of) the normalized operation. The planner skips denied fields, so a
subgraph left with nothing to answer is not called; shaping answers each denied field with null
and an error `UNAUTHORIZED_FIELD_OR_TYPE` at its path, with ordinary null propagation, and the
rest of the operation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from graphql import get_named_type

from auth.principal import Principal
from gateway.errors import UNAUTHORIZED
from gateway.operation import NField, NOperation, NSelection
from gateway.supergraph import AccessRule, Supergraph

# a named policy: does this caller satisfy it?
Policy = Callable[[Principal], bool]


@dataclass(frozen=True, slots=True)
class Caller:
    """What the rules look at, reduced to what can be compared and cached."""

    authenticated: bool
    scopes: frozenset[str]
    policies: frozenset[str]  # names of the policies this caller satisfies


class Authorizer:
    def __init__(self, supergraph: Supergraph, policies: Mapping[str, Policy] | None = None):
        self.sg = supergraph
        self.policies = dict(policies or {})
        self.enabled = bool(supergraph.field_access or supergraph.type_access)

    def caller(self, principal: Principal) -> Caller:
        return Caller(
            authenticated=not principal.is_anonymous,
            scopes=frozenset(principal.scopes),
            policies=frozenset(name for name, check in self.policies.items() if check(principal)),
        )

    def authorize(self, op: NOperation, caller: Caller) -> tuple[NOperation, tuple[str, ...]]:
        """The operation with unreadable fields denied, and the denied positions (a cache key)."""
        if not self.enabled:
            return op, ()
        denied: list[str] = []
        root = self._selection(op.root, caller, "", denied)
        if not denied:
            return op, ()
        return replace(op, root=root), tuple(denied)

    def _selection(
        self, nsel: NSelection, caller: Caller, path: str, denied: list[str]
    ) -> NSelection:
        by_type: dict[str, dict[str, NField]] = {}
        changed = False
        for type_name, fields in nsel.by_type.items():
            out: dict[str, NField] = {}
            for key, f in fields.items():
                checked = self._field(f, type_name, caller, f"{path}/{type_name}.{key}", denied)
                changed |= checked is not f
                out[key] = checked
            by_type[type_name] = out
        return NSelection(nsel.type_name, nsel.abstract, by_type) if changed else nsel

    def _field(
        self, f: NField, parent: str, caller: Caller, path: str, denied: list[str]
    ) -> NField:
        if f.is_typename:
            return f
        named = get_named_type(f.type)
        rules = (
            self.sg.field_access.get((parent, f.name)),
            self.sg.type_access.get(parent),
            self.sg.type_access.get(named.name) if named else None,
        )
        if not all(_allows(rule, caller) for rule in rules if rule is not None):
            denied.append(path)
            return replace(f, selection=None, denied=UNAUTHORIZED)
        if f.selection is None:
            return f
        selection = self._selection(f.selection, caller, path, denied)
        return f if selection is f.selection else replace(f, selection=selection)


def _allows(rule: AccessRule, caller: Caller) -> bool:
    if rule.authenticated and not caller.authenticated:
        return False
    if rule.scopes and not any(group <= caller.scopes for group in rule.scopes):
        return False
    return not rule.policies or any(group <= caller.policies for group in rule.policies)
