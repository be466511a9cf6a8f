"""Operations whose response keys are other fields' names, and their answers mapped back.

The reference gateways answer some operations wrongly where a client's alias is the name of a
key or of another field at the same position (`sku: name`, see the chain_nulls fixtures), so
they cannot judge these. Rugzak judges itself instead: `swap_aliases` gives the fields of a
selection new response keys taken from the names of their parent type's fields (a sibling's
name, a key field's, any field's), and `unswap` maps the answer's keys and error paths back to
the field names. The mapped answer must be the answer to the operation as drawn.
"""

from __future__ import annotations

import random
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
    print_ast,
)

from tests.federation.dressing import rewrite_operations


def swap_aliases(query: str, schema: GraphQLSchema, seed: int) -> str:
    """`query` (drawn: fields and inline fragments, no aliases) with the fields of some
    selections under other fields' names."""
    rng = random.Random(seed)
    operations = rewrite_operations(
        query, schema, lambda node, root: _swapped(node, root, schema, rng)
    )
    return print_ast(DocumentNode(definitions=tuple(operations)))


def _swapped(
    node: SelectionSetNode, parent: Any, schema: GraphQLSchema, rng: random.Random
) -> SelectionSetNode:
    fields = [s for s in node.selections if isinstance(s, FieldNode)]
    names = [f.name.value for f in fields]
    keys: dict[int, str] = {}
    # only where the keys stay apart: no fragment beside the fields (its fields share the
    # response), each field once
    if (
        isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        and len(fields) == len(node.selections)
        and len(set(names)) == len(names)
        and rng.random() < 0.6
    ):
        pool = [n for n in parent.fields if n not in names] + names
        rng.shuffle(pool)
        for index in rng.sample(range(len(fields)), k=len(fields)):
            if names[index] != "__typename" and pool:
                keys[index] = pool.pop()
        taken = set(keys.values())
        for index, name in enumerate(names):  # a field left unaliased keeps its own key
            if index not in keys and name in taken:
                keys[index] = _fresh(name, taken | set(names))
                taken.add(keys[index])
    out = []
    for sel in node.selections:
        if isinstance(sel, InlineFragmentNode):
            inner = schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            sub = _swapped(sel.selection_set, inner, schema, rng)
            out.append(
                InlineFragmentNode(
                    type_condition=sel.type_condition, directives=sel.directives, selection_set=sub
                )
            )
            continue
        assert isinstance(sel, FieldNode)
        index = fields.index(sel)
        key = keys.get(index)
        selection = sel.selection_set
        if selection is not None:
            named = get_named_type(parent.fields[sel.name.value].type)
            selection = _swapped(selection, named, schema, rng)
        out.append(
            FieldNode(
                alias=NameNode(value=key) if key and key != sel.name.value else None,
                name=sel.name,
                arguments=sel.arguments,
                directives=sel.directives,
                selection_set=selection,
            )
        )
    return SelectionSetNode(selections=tuple(out))


def _fresh(name: str, taken: set[str]) -> str:
    key = f"{name}_"
    while key in taken:
        key += "_"
    return key


def unswap(answer: dict[str, Any], swapped: str) -> dict[str, Any] | None:
    """The answer to `swap_aliases`'s operation with field names as keys again; None where one
    response key stands for two fields (in fragments on different types: no mapping back)."""
    operation = parse(swapped).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    out: dict[str, Any] = {}
    try:
        if "data" in answer:
            out["data"] = _value(answer["data"], [operation.selection_set])
        if "errors" in answer:
            out["errors"] = [
                {**e, "path": _path(e["path"], [operation.selection_set])} if e.get("path") else e
                for e in answer["errors"]
            ]
    except _Ambiguous:
        return None
    return out


class _Ambiguous(Exception):
    pass


def _by_key(nodes: list[SelectionSetNode]) -> dict[str, tuple[str, list[SelectionSetNode]]]:
    """response key -> (field name, the selection sets below it)."""
    out: dict[str, tuple[str, list[SelectionSetNode]]] = {}

    def collect(node: SelectionSetNode) -> None:
        for sel in node.selections:
            if isinstance(sel, InlineFragmentNode):
                collect(sel.selection_set)
            elif isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                name, below = out.setdefault(key, (sel.name.value, []))
                if name != sel.name.value:
                    raise _Ambiguous(key)
                if sel.selection_set is not None:
                    below.append(sel.selection_set)

    for node in nodes:
        collect(node)
    return out


def _value(value: Any, nodes: list[SelectionSetNode]) -> Any:
    if not nodes or value is None:
        return value
    if isinstance(value, list):
        return [_value(item, nodes) for item in value]
    out: dict[str, Any] = {}
    for key, (name, below) in _by_key(nodes).items():
        if key in value:
            out[name] = _value(value[key], below)
    return out


def _path(path: list[Any], nodes: list[SelectionSetNode]) -> list[Any]:
    out: list[Any] = []
    for step in path:
        if isinstance(step, int) or not nodes:
            out.append(step)
            continue
        found = _by_key(nodes).get(step)
        if found is None:
            out.append(step)  # not a key of the client's (see the planner's public paths)
            nodes = []
            continue
        out.append(found[0])
        nodes = found[1]
    return out


def client_errors_only(answer: dict[str, Any], query: str) -> dict[str, Any]:
    """`answer` with only the errors at a field `query` selects: an error of a field the gateway
    asked for itself (a failed @requires value) is reported at that field's name where the
    client has no such key, and without a path where the client's key of that name is another
    field, so that it differs between an operation and its swapped form by design."""
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    kept = [
        e
        for e in answer.get("errors") or ()
        if e.get("path") and _selected(e["path"], [operation.selection_set])
    ]
    return {**answer, "errors": kept}


def _selected(path: list[Any], nodes: list[SelectionSetNode]) -> bool:
    for step in path:
        if isinstance(step, int):
            continue
        found = _by_key(nodes).get(step)
        if found is None:
            return False
        nodes = found[1]
    return True
