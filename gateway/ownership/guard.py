"""Ownership checked per object: fields readable only where the entity's data subject is the
caller, wherever that entity appears in the answer.

Authorisation (gateway/authorization.py) decides per field and caller. Where a policy holds only
for the caller's own data (`SUBJECT_IS_CALLER`, e.g. `citizen-self` for a citizen), the field
is *bound*: it is planned and fetched, and this module decides per object, in three places:

1. Planning: at each position where an entity with a declared data subject (an *anchor*) has
   bound fields beneath it, the subject's fields are selected too, under an internal response
   key (`subject_fields`), so the answer says whose data each object is.
2. Before an entity fetch (`Ownership.screen`): a representation whose key carries the subject
   (a Citizen's `insz`) is compared with the caller. When every field the fetch asks for that
   object is bound, a representation of someone else is never sent; in any case the objects it
   stands for are remembered as not the caller's.
3. After execution, before shaping (`Ownership.enforce`): every bound field of an object whose
   nearest anchor is not the caller's (or whose subject is unknown, or disagrees with what its
   representation said) is set to null with `UNAUTHORIZED_FIELD_OR_TYPE` at its path.

A subgraph can return a reference to any entity from any field; none of that matters here: only
the subject value in the data, checked against the verified caller, opens a bound field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import FieldNode, GraphQLObjectType, GraphQLSchema, NameNode, get_named_type

from gateway.errors import UNAUTHORIZED, graphql_error
from gateway.operation import NField, NOperation, NSelection
from gateway.ownership.subjects import DataSubject
from gateway.planning.plan import FetchNode, QueryPlan

SUBJECT_KEY = "_rzsubject"


@dataclass(slots=True)
class Anchor:
    """An entity type with a declared data subject, at one position."""

    subject: DataSubject
    key: str  # the internal response key its subject's fields are selected under


@dataclass(slots=True)
class GuardNode:
    """One position of the operation on the way to bound fields, per concrete type there."""

    # the only type that can appear here (None at an abstract position: read __typename)
    static_type: str | None
    anchors: dict[str, Anchor] = field(default_factory=dict)
    # concrete type -> response key -> `Type.field`, readable only if the nearest anchor is
    # the caller's
    bound: dict[str, dict[str, str]] = field(default_factory=dict)
    children: dict[str, dict[str, GuardNode]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.bound and not self.children


@dataclass(slots=True)
class OwnershipGuard:
    """The bound fields of one operation for one kind of caller (built by authorisation)."""

    root: GuardNode
    # the anchor positions, as a plan cache key (the planned operation selects their subjects)
    positions: tuple[str, ...]
    # gates per plan, worked out once (guards and plans are both cached and reused)
    _gates: dict[int, tuple[QueryPlan, dict[int, dict[str, tuple[str, bool]]]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def subject_fields(self, op: NOperation, schema: GraphQLSchema) -> NOperation:
        """The operation to plan: `op` with each anchor's subject selected too."""
        return replace(op, root=_with_subjects(op.root, self.root, schema))

    def gates(self, plan: QueryPlan) -> dict[int, dict[str, tuple[str, bool]]]:
        """Per entity fetch: concrete type -> (the representation's field holding the subject's
        INSZ, whether every field fetched for such an object is bound)."""
        known = self._gates.get(id(plan))
        if known is not None and known[0] is plan:
            return known[1]
        found = self._find_gates(plan)
        if len(self._gates) >= 64:
            self._gates.clear()
        self._gates[id(plan)] = (plan, found)
        return found

    def _find_gates(self, plan: QueryPlan) -> dict[int, dict[str, tuple[str, bool]]]:
        found: dict[int, dict[str, tuple[str, bool]]] = {}
        for node in plan.fetches:
            if node.representations is None:
                continue
            keys = {keys[0] for keys in node.field_keys if keys}
            per_type: dict[str, tuple[str, bool]] = {}
            for position in _nodes_at(self.root, node):
                for type_name, anchor in position.anchors.items():
                    path = anchor.subject.path
                    reps = node.representations.get(type_name, ())
                    if len(path) != 1 or not any(r.name == path[0] for r in reps):
                        continue
                    bound = bool(keys) and keys <= position.bound.get(type_name, {}).keys()
                    earlier = per_type.get(type_name)
                    per_type[type_name] = (path[0], bound and (earlier is None or earlier[1]))
            if per_type:
                found[node.id] = per_type
        return found


class Ownership:
    """One request's ownership checks: the caller's INSZ, the guard, what fetches learned."""

    __slots__ = ("_gates", "caller", "guard", "not_owned", "plan")

    def __init__(self, guard: OwnershipGuard, caller: str | None, plan: QueryPlan) -> None:
        self.guard = guard
        self.caller = caller
        self.plan = plan
        self.not_owned: set[int] = set()  # id() of objects a representation showed not ours
        self._gates: dict[int, dict[str, tuple[str, bool]]] | None = None

    def screen(
        self,
        node: FetchNode,
        reps: list[dict[str, Any]],
        targets: list[list[dict[str, Any]]],
    ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
        """The representations of an entity fetch that may be sent, and their objects."""
        if self._gates is None:
            self._gates = self.guard.gates(self.plan)
        gates = self._gates.get(node.id)
        if not gates:
            return reps, targets
        kept_reps: list[dict[str, Any]] = []
        kept_targets: list[list[dict[str, Any]]] = []
        for rep, objects in zip(reps, targets, strict=True):
            type_name = objects[0].get("__typename") or rep.get("__typename")
            gate = gates.get(type_name) if isinstance(type_name, str) else None
            if gate is not None and (not self.caller or rep.get(gate[0]) != self.caller):
                self.not_owned.update(id(o) for o in objects)
                if gate[1]:
                    continue  # every field asked of it is bound: never sent
            kept_reps.append(rep)
            kept_targets.append(objects)
        return kept_reps, kept_targets

    def enforce(self, data: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        """Nulls every bound field of an object that is not the caller's, with an error. A
        subgraph's errors about the subjects the gateway asked for are not the client's."""
        errors[:] = [e for e in errors if not _about_subject(e.get("path"))]
        _Enforcer(self, errors).walk(data, self.guard.root, None, [])


def _about_subject(path: Any) -> bool:
    return isinstance(path, list) and any(
        isinstance(step, str) and step.startswith(SUBJECT_KEY) for step in path
    )


class _Enforcer:
    __slots__ = ("errors", "ownership")

    def __init__(self, ownership: Ownership, errors: list[dict[str, Any]]) -> None:
        self.ownership = ownership
        self.errors = errors

    def walk(self, value: Any, node: GuardNode, owned: bool | None, path: list[Any]) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.walk(item, node, owned, [*path, index])
            return
        if not isinstance(value, dict):
            return
        type_name = value.get("__typename", node.static_type)
        if not isinstance(type_name, str):
            # an abstract position without __typename: whose it is cannot be told
            for fields in node.bound.values():
                self._deny(value, fields, path)
            return
        anchor = node.anchors.get(type_name)
        if anchor is not None:
            owned = self._owns(value, anchor)
        bound = node.bound.get(type_name, {})
        denied = bool(bound) and owned is not True
        if denied:
            self._deny(value, bound, path)
        for key, child in node.children.get(type_name, {}).items():
            if key in value and not (denied and key in bound):
                self.walk(value[key], child, owned, [*path, key])

    def _owns(self, value: dict[str, Any], anchor: Anchor) -> bool:
        caller = self.ownership.caller
        if not caller or id(value) in self.ownership.not_owned:
            return False
        found: Any = value.get(anchor.key)
        for name in anchor.subject.path[1:]:
            found = found.get(name) if isinstance(found, dict) else None
        return isinstance(found, str) and found == caller

    def _deny(self, value: dict[str, Any], bound: dict[str, str], path: list[Any]) -> None:
        for key, coordinate in bound.items():
            value[key] = None  # also when its fetch was never sent
            self.errors.append(
                graphql_error(
                    f"Unauthorized field or type: {coordinate}", UNAUTHORIZED, path=[*path, key]
                )
            )


def _nodes_at(root: GuardNode, fetch: FetchNode) -> Iterator[GuardNode]:
    """The guard nodes at an entity fetch's position (several where types share a key)."""
    current = [root]
    for segment in fetch.path:
        following: list[GuardNode] = []
        for node in current:
            for type_name, children in node.children.items():
                if segment.types is not None and type_name not in segment.types:
                    continue
                child = children.get(segment.key)
                if child is not None:
                    following.append(child)
        current = following
        if not current:
            return
    yield from current


def _with_subjects(nsel: NSelection, node: GuardNode, schema: GraphQLSchema) -> NSelection:
    by_type: dict[str, dict[str, NField]] = {}
    for type_name, fields in nsel.by_type.items():
        out = dict(fields)
        for key, child in node.children.get(type_name, {}).items():
            f = out.get(key)
            if f is not None and f.selection is not None:
                out[key] = replace(f, selection=_with_subjects(f.selection, child, schema))
        anchor = node.anchors.get(type_name)
        if anchor is not None:
            out[anchor.key] = _subject_field(schema, type_name, anchor)
        by_type[type_name] = out
    return NSelection(nsel.type_name, nsel.abstract, by_type)


def _subject_field(schema: GraphQLSchema, type_name: str, anchor: Anchor) -> NField:
    """`<key>: insz`, or `<key>: reporter { insz }`: the subject, under an internal key."""
    path = anchor.subject.path
    parents = [type_name]
    definitions = []
    for name in path:
        parent = schema.get_type(parents[-1])
        assert isinstance(parent, GraphQLObjectType)  # checked when the supergraph was read
        definitions.append(parent.fields[name])
        parents.append(get_named_type(definitions[-1].type).name)
    sub: NSelection | None = None
    for depth in range(len(path) - 1, -1, -1):
        key = anchor.key if depth == 0 else path[depth]
        alias = NameNode(value=key) if key != path[depth] else None
        node = FieldNode(name=NameNode(value=path[depth]), alias=alias)
        f = NField(key, path[depth], (), definitions[depth].type, sub, [node], parents[depth])
        if depth > 0:
            sub = NSelection(parents[depth], False, {parents[depth]: {key: f}})
        else:
            return f
    raise AssertionError("a data subject path has at least one field")
