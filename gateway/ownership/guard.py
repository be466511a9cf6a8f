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

from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    visit,
)

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


@dataclass(frozen=True, slots=True)
class Gate:
    """How an entity fetch treats representations of one anchor type that are not the caller's:
    read the subject's INSZ from `field`; with bound fields asked (`bound`), send them only to
    `rest`, the same fetch without its bound fields (None: it has none left, so never send)."""

    field: str
    bound: bool
    rest: FetchNode | None = None


_Gates = dict[int, dict[str, Gate]]


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
    _gates: dict[int, tuple[QueryPlan, _Gates]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def subject_fields(self, op: NOperation, schema: GraphQLSchema) -> NOperation:
        """The operation to plan: `op` with each anchor's subject selected too."""
        return replace(op, root=_with_subjects(op.root, self.root, schema))

    def gates(self, plan: QueryPlan) -> _Gates:
        """Per entity fetch: concrete type -> its gate (for anchors whose subject the
        representation carries)."""
        known = self._gates.get(id(plan))
        if known is not None and known[0] is plan:
            return known[1]
        found = self._find_gates(plan)
        if len(self._gates) >= 64:
            self._gates.clear()
        self._gates[id(plan)] = (plan, found)
        return found

    def _find_gates(self, plan: QueryPlan) -> _Gates:
        found: _Gates = {}
        for node in plan.fetches:
            if node.representations is None:
                continue
            keys = {keys[0] for keys in node.field_keys if keys}
            per_type: dict[str, Gate] = {}
            for position in _nodes_at(self.root, node):
                for type_name, anchor in position.anchors.items():
                    path = anchor.subject.path
                    reps = node.representations.get(type_name, ())
                    if len(path) != 1 or not any(r.name == path[0] for r in reps):
                        continue
                    bound = keys & position.bound.get(type_name, {}).keys()
                    earlier = per_type.get(type_name)
                    if earlier is not None and earlier.bound and not bound:
                        continue  # the stricter of two positions the fetch serves
                    rest = _without(node, type_name, bound) if bound and keys - bound else None
                    per_type[type_name] = Gate(path[0], bool(bound), rest)
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
        self._gates: _Gates | None = None

    def screen(
        self,
        node: FetchNode,
        reps: list[dict[str, Any]],
        targets: list[list[dict[str, Any]]],
    ) -> list[tuple[FetchNode, list[dict[str, Any]], list[list[dict[str, Any]]]]]:
        """The parts an entity fetch may send: its own node with the representations that
        may carry it, and (when it also asks fields that are not bound) the node without its
        bound fields with the representations of entities that are not the caller's."""
        if self._gates is None:
            self._gates = self.guard.gates(self.plan)
        gates = self._gates.get(node.id)
        if not gates:
            return [(node, reps, targets)]
        kept: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]] = ([], [])
        rests: dict[int, tuple[FetchNode, list[dict[str, Any]], list[list[dict[str, Any]]]]] = {}
        for rep, objects in zip(reps, targets, strict=True):
            type_name = objects[0].get("__typename") or rep.get("__typename")
            gate = gates.get(type_name) if isinstance(type_name, str) else None
            if gate is not None and (not self.caller or rep.get(gate.field) != self.caller):
                self.not_owned.update(id(o) for o in objects)
                if gate.bound:
                    if gate.rest is not None:  # only its open fields: never the bound ones
                        part = rests.setdefault(id(gate.rest), (gate.rest, [], []))
                        part[1].append(rep)
                        part[2].append(objects)
                    continue
            kept[0].append(rep)
            kept[1].append(objects)
        parts = [(node, *kept)] if kept[0] else []
        return parts + list(rests.values())

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
        f = NField(key, path[depth], (), definitions[depth].type, sub, (node,), parents[depth])
        if depth > 0:
            sub = NSelection(parents[depth], False, {parents[depth]: {key: f}})
        else:
            return f
    raise AssertionError("a data subject path has at least one field")


def _without(node: FetchNode, type_name: str, bound: set[str]) -> FetchNode:
    """The entity fetch `node` without the bound fields (response keys) of `type_name`."""
    sent_as = node.representation_typenames.get(type_name, type_name)
    selection = parse("{" + node.selection + "}", no_location=True).definitions[0]
    kept: list[SelectionNode] = []
    for item in selection.selection_set.selections:  # type: ignore[attr-defined]
        if (
            isinstance(item, InlineFragmentNode)
            and item.type_condition is not None
            and item.type_condition.name.value == sent_as
        ):
            fields = tuple(
                f
                for f in item.selection_set.selections
                if not (isinstance(f, FieldNode) and (f.alias or f.name).value in bound)
            )
            if not fields:
                continue
            item = InlineFragmentNode(
                type_condition=item.type_condition,
                directives=item.directives,
                selection_set=SelectionSetNode(selections=fields),
            )
        kept.append(item)
    text = (
        "".join(print_ast(item).replace("\n", " ") + " " for item in kept).strip() or "__typename"
    )
    used = _variables(text)
    variable_defs = tuple(d for d in node.variable_defs if d.split(":")[0][1:] in used)
    document = (
        "query("
        + ",".join(["$representations:[_Any!]!", *variable_defs])
        + "){_entities(representations:$representations){"
        + text
        + "}}"
    )
    return replace(
        node,
        document=document,
        selection=text,
        variable_defs=variable_defs,
        variable_names=tuple(n for n in node.variable_names if n in used),
        field_keys=tuple(k for k in node.field_keys if not (k and k[0] in bound)),
    )


def _variables(text: str) -> set[str]:
    found: set[str] = set()

    class _Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            found.add(node.name.value)

    visit(parse("{" + text + "}", no_location=True), _Collect())
    return found
