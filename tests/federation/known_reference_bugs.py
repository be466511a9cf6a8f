"""Shapes of operation where both reference gateways are known to answer wrongly by the spec (or,
for @fromContext, not at all).

A generated operation whose answer differs from Hive Gateway's is checked against Apollo Gateway
(tests/oracles/apollo.py). Where both differ from Rugzak, the operation must be of a shape named
here, each one shown with the spec's answer by a hand-written operation and its .expected.json;
otherwise the test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_abstract_type,
    is_non_null_type,
    parse,
    visit,
)

from gateway.operation import NSelection, normalize, select_operation
from gateway.schema.supergraph import Supergraph
from gateway.value_text import arguments_text


def one_field_needed_with_two_argument_sets(sg: Supergraph, query: str) -> bool:
    """At one position, a field is needed with two sets of arguments: the client asks `f(a)` and
    a field next to it @requires `f(b)`, or two fields there @require `f(a)` and `f(b)`
    (directly or through a chain of @requires). Both references then hand some requiring field
    the other value (fixtures/requires: requires_chain_argument_differs_from_client,
    requires_conflicting_arguments_beside_a_plain_field, requires_two_credits_in_a_chain)."""
    schema: GraphQLSchema = sg.api_schema
    info = TypeInfo(schema)
    found = False

    class Positions(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
            nonlocal found
            parent = info.get_parent_type()
            if parent is None:
                return
            type_name = get_named_type(parent).name  # type: ignore[union-attr]
            needed: dict[str, set[str]] = {}
            for f in node.selections:
                if isinstance(f, FieldNode):
                    needed.setdefault(f.name.value, set()).add(_arguments(f))
                    for name, args in _required(sg, type_name, f.name.value, set()):
                        needed.setdefault(name, set()).add(args)
            if any(len(argument_sets) > 1 for argument_sets in needed.values()):
                found = True

    document = parse(query)
    if any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        visit(document, TypeInfoVisitor(info, Positions()))
    return found


def _arguments(node: FieldNode) -> str:
    return arguments_text(tuple(node.arguments or ()))


def _required(sg: Supergraph, type_name: str, field: str, seen: set[str]) -> set[tuple[str, str]]:
    """(name, arguments) of the fields `field` needs on its own type, through chains."""
    if field in seen:
        return set()
    seen.add(field)
    out: set[tuple[str, str]] = set()
    for graph in sg.type_graphs.get(type_name, {}):
        info = sg.field_in_graph(type_name, field, graph)
        if info is None or info.requires is None:
            continue
        for node in info.requires.selections:
            if isinstance(node, FieldNode):
                out.add((node.name.value, _arguments(node)))
                out |= _required(sg, type_name, node.name.value, seen)
    return out


def takes_an_argument_from_a_context(sg: Supergraph, query: str) -> bool:
    """Selects a field with an argument taken from a context (@fromContext, Federation 2.8).
    Hive Gateway 2.15.1 (router-runtime 1.4.23) ignores @fromContext and sends no argument,
    and Apollo Gateway 2.14.4 refuses to serve such a supergraph (UNSUPPORTED_LINKED_FEATURE);
    the spec's answers are shown by fixtures/contexts's hand-written operations."""

    def takes_one(parent: GraphQLNamedType, node: FieldNode, _: TypeInfo) -> bool:
        graphs = sg.field_graphs.get((parent.name, node.name.value), {})
        return any(f.context_arguments for f in graphs.values())

    return _some_field(sg, query, takes_one)


def null_completion_error_left_out(ours: Mapping[str, Any], apollo: Mapping[str, Any]) -> bool:
    """A subgraph answered null for a non-null field (an entity it did not find, under a field
    the client asked of it): the data are the same, Rugzak reports the null as a field error
    (GraphQL spec, Handling Field Errors) at the field with no value, below the object it
    nulled; Apollo Gateway 2.14.4 puts that error in `extensions.valueCompletion` (or, beside
    other errors, nowhere), and Hive Gateway 2.15.1 leaves it out too (its data can differ as
    well: graphql-hive/router#1110). Shown with the spec's answer by
    fixtures/errors/operations/entity_not_found_non_null."""
    if ours.get("data") != apollo.get("data"):
        return False
    theirs = _paths(apollo)
    extra = [e for e in ours.get("errors") or () if tuple(e.get("path") or ()) not in theirs]
    return bool(extra) and all(
        str(e.get("message", "")).startswith("Cannot return null for non-nullable field")
        and _at(ours.get("data"), (e.get("path") or [None])[:-1]) is None
        for e in extra
    )


def _at(data: Any, path: list[Any]) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return "not there"
    return data


def required_field_twice_error_at_the_last_key(
    sg: Supergraph, query: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> bool:
    """A non-null field with @requires, asked under two response keys (`label zz3: label`),
    fails and nulls its object: one error, at one of the keys. Rugzak gives the first key the
    client wrote, as an executor completing the fields in order does; both references give the
    last, because they send such fields to the subgraph in reverse order (`zz3: label label`),
    which they do not do for fields without @requires. Either is a spec answer; the hand-written
    fixtures/chain_nulls/operations/required_field_asked_twice_fails_once shows Rugzak's."""
    if ours.get("data") != theirs.get("data"):
        return False
    mine = _paths(ours)
    other = _paths(theirs)
    only_mine, only_theirs = mine - other, other - mine
    if not only_mine or len(only_mine) != len(only_theirs):
        return False
    document = parse(query)
    op = normalize(sg.api_schema, document, select_operation(document, None), {})
    for path in only_mine:
        match = [p for p in only_theirs if p[:-1] == path[:-1]]
        if len(match) != 1 or not _one_required_field(sg, op.root, path, match[0][-1]):
            return False
    return True


def _paths(body: Mapping[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(e.get("path") or ()) for e in body.get("errors") or ()}


def _one_required_field(
    sg: Supergraph, root: NSelection, path: tuple[Any, ...], other: Any
) -> bool:
    """Whether response keys `path[-1]` and `other` at `path[:-1]` are one field with @requires."""
    selections = [root]
    for step in path[:-1]:
        if isinstance(step, int):
            continue
        selections = [
            f.selection
            for nsel in selections
            for fields in nsel.by_type.values()
            if (f := fields.get(step)) is not None and f.selection is not None
        ]
    for nsel in selections:
        for type_name, fields in nsel.by_type.items():
            a, b = fields.get(path[-1]), fields.get(other)
            if a is None or b is None or a.name != b.name:
                continue
            graphs = sg.type_graphs.get(type_name, {})
            if any(
                (info := sg.field_in_graph(type_name, a.name, g)) is not None and info.requires
                for g in graphs
            ):
                return True
    return False


def requires_a_nested_field_required_in_turn(sg: Supergraph, query: str) -> bool:
    """Selects a field whose @requires reaches into a nested object for a field that has a
    @requires of its own (`label @requires(fields: "sender { displayName }")`, displayName
    @requires name). Apollo Gateway 2.14.4 sends the representation without that value (the
    label reads "from -"); Hive Gateway 2.15.1 gives the spec's answer on the operation as
    drawn but fails on some dressed forms of it ("Unexpected error.", no data). The spec's answer
    is shown by fixtures/requires_chains/operations/nested_requirement_through_another_entity."""
    return _some_field(
        sg, query, lambda parent, node, _: _nested_requirement(sg, parent.name, node.name.value)
    )


def _nested_requirement(sg: Supergraph, type_name: str, field: str) -> bool:
    for graph in sg.type_graphs.get(type_name, {}):
        info = sg.field_in_graph(type_name, field, graph)
        if (
            info is not None
            and info.requires is not None
            and _requires_below(sg, type_name, info.requires, depth=0)
        ):
            return True
    return False


def _requires_below(sg: Supergraph, type_name: str, node: SelectionSetNode, depth: int) -> bool:
    """Whether a field below the top of this selection (depth > 0) has a @requires."""
    parent = sg.schema.get_type(type_name)
    for sel in node.selections:
        if not isinstance(sel, FieldNode):
            continue
        name = sel.name.value
        if depth > 0 and any(
            (f := sg.field_in_graph(type_name, name, g)) is not None and f.requires is not None
            for g in sg.type_graphs.get(type_name, {})
        ):
            return True
        fields = getattr(parent, "fields", {})
        if sel.selection_set is not None and name in fields:
            inner = get_named_type(fields[name].type).name  # type: ignore[union-attr]
            if _requires_below(sg, inner, sel.selection_set, depth + 1):
                return True
    return False


def typename_beside_an_interface_object_field(sg: Supergraph, query: str) -> bool:
    """Selects `__typename` of a concrete type next to a field only an @interfaceObject serves
    (`holder { __typename lastChanged }`, Citizen's lastChanged from audit's `Node`). Apollo
    Gateway 2.14.4 asks the interface-object subgraph for `__typename` too, takes its "Node"
    over "Citizen", and then nulls the object (and its non-null ancestors) without an error;
    Hive Gateway 2.15.1 gives the spec's answer on the operation as drawn but fails on some
    dressed forms of it ("Unexpected error.", no data). The spec's answer is shown by
    fixtures/node/operations/typename_beside_interface_object_field."""

    def beside(_: GraphQLNamedType, node: FieldNode, info: TypeInfo) -> bool:
        named = get_named_type(info.get_type())
        if node.selection_set is None or named is None or named.name not in sg.interfaces_of:
            return False
        fields = _fields_on(node.selection_set, named.name)
        return "__typename" in fields and any(
            _served_by_interface_objects_only(sg, named.name, name) for name in fields
        )

    return _some_field(sg, query, beside)


def _fields_on(node: SelectionSetNode, type_name: str) -> set[str]:
    """Names of the fields selected on `type_name` here, through fragments on that type."""
    names: set[str] = set()
    for sel in node.selections:
        if isinstance(sel, FieldNode):
            names.add(sel.name.value)
        elif isinstance(sel, InlineFragmentNode) and (
            sel.type_condition is None or sel.type_condition.name.value == type_name
        ):
            names |= _fields_on(sel.selection_set, type_name)
    return names


def _served_by_interface_objects_only(sg: Supergraph, type_name: str, field: str) -> bool:
    own = sg.resolvers.get((type_name, field), frozenset())
    for interface in sg.interfaces_of.get(type_name, ()):
        objects = sg.interface_objects.get(interface, frozenset())
        graphs = sg.resolvers.get((interface, field), frozenset())
        if graphs and graphs <= objects and own <= objects:
            return True
    return False


def fragment_on_a_field_typed_concretely_in_one_subgraph(sg: Supergraph, query: str) -> bool:
    """Selects fragments under a field of abstract type that some subgraph types as one of its
    members (`related { ... on Book { narrator } }`: Book.related is a Medium in the library, a
    Book in music). Apollo Gateway 2.14.4 fetches it from the subgraph that says Book, without
    `__typename`, and then matches no fragment: `related: {}`. Hive Gateway 2.15.1 gives the
    spec's answer on the operation as drawn but fails on some dressed forms of it ("Unexpected
    error."). The spec's answer is shown by
    fixtures/member_types/operations/narrower_type_without_typename."""

    def narrowed(parent: GraphQLNamedType, node: FieldNode, info: TypeInfo) -> bool:
        field_type = get_named_type(info.get_type())
        if node.selection_set is None or not is_abstract_type(field_type):
            return False
        graphs = sg.field_graphs.get((parent.name, node.name.value), {})
        return any(
            f.type is not None and f.type.strip("[]!") != field_type.name for f in graphs.values()
        ) and any(not isinstance(sel, FieldNode) for sel in node.selection_set.selections)

    return _some_field(sg, query, narrowed)


def _some_field(
    sg: Supergraph, query: str, test: Callable[[GraphQLNamedType, FieldNode, TypeInfo], bool]
) -> bool:
    """Whether `test(parent type, field, type info at the field)` holds for a field of `query`
    (validated against the API schema)."""
    info = TypeInfo(sg.api_schema)
    found = False

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            nonlocal found
            parent = info.get_parent_type()
            found = found or (parent is not None and test(parent, node, info))

    visit(parse(query), TypeInfoVisitor(info, Fields()))
    return found


def field_behind_a_key_with_a_nullable_part(sg: Supergraph, query: str) -> bool:
    """Selects a field that a subgraph serves only by an entity call whose every key has a
    nullable field (`Team @key(fields: "slug")`, `slug: String`). For an object whose key part
    is null, Apollo Gateway 2.14.4 still sends the representation (`{slug: null}`) and answers
    what the subgraph makes of it (a budget for "no slug"); Rugzak, like Hive Gateway 2.15.1,
    sends none: nothing identifies the object there, and the field is null. Hive Gateway fails
    on some dressed forms ("Unexpected error."). The answer is shown by
    fixtures/null_composite_keys/operations/composite_key_with_null_parts and the other
    operations of that set."""

    def behind(parent: GraphQLNamedType, node: FieldNode, _: TypeInfo) -> bool:
        name = node.name.value
        graphs = sg.resolvers.get((parent.name, name), frozenset())
        in_a_key = any(
            name
            in {sel.name.value for sel in key.selection.selections if isinstance(sel, FieldNode)}
            for graph in sg.type_graphs.get(parent.name, {})
            for key in sg.all_keys(parent.name, graph)
        )
        return (
            bool(graphs)
            and not in_a_key
            and all(
                (keys := sg.resolvable_keys(parent.name, graph))
                and all(_has_a_nullable_part(sg, parent.name, key.selection) for key in keys)
                for graph in graphs
            )
        )

    return _some_field(sg, query, behind)


def _has_a_nullable_part(sg: Supergraph, type_name: str, selection: SelectionSetNode) -> bool:
    parent = sg.schema.get_type(type_name)
    fields = getattr(parent, "fields", {})
    for sel in selection.selections:
        if not isinstance(sel, FieldNode) or sel.name.value not in fields:
            continue
        field_type = fields[sel.name.value].type
        if not is_non_null_type(field_type):
            return True
        if sel.selection_set is not None and _has_a_nullable_part(
            sg, get_named_type(field_type).name, sel.selection_set
        ):
            return True
    return False
