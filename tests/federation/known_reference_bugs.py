"""Shapes of operation where both reference gateways are known to answer wrongly by the spec (or,
for @fromContext, not at all).

A generated operation whose answer differs from Hive Gateway's is checked against Apollo Gateway
(tests/oracles/apollo.py). Where both differ from Rugzak, the operation must be of a shape named
here, each one shown with the spec's answer by a hand-written operation and its .expected.json;
otherwise the test fails.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)

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
    schema: GraphQLSchema = sg.api_schema
    info = TypeInfo(schema)
    found = False

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            nonlocal found
            parent = info.get_parent_type()
            if parent is None:
                return
            graphs = sg.field_graphs.get((parent.name, node.name.value), {})
            if any(f.context_arguments for f in graphs.values()):
                found = True

    document = parse(query)
    visit(document, TypeInfoVisitor(info, Fields()))
    return found
