"""Field sets (`@key(fields:)`, `@requires(fields:)`, `@provides(fields:)`): parsing them and
walking them over a subgraph's types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    FieldNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
    print_ast,
)

from gateway.composition.subgraph_model import Field, Kind, Subgraph

LEAF_KINDS = (Kind.SCALAR, Kind.ENUM)
BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


class FieldSetSyntaxError(ValueError):
    pass


@lru_cache(maxsize=4096)
def parse_field_set(text: str) -> SelectionSetNode:
    """The field set as a selection set (shared between callers: do not modify it)."""
    source = text.strip()
    try:
        doc = parse(source if source.startswith("{") else "{" + source + "}", no_location=True)
    except GraphQLSyntaxError as exc:
        raise FieldSetSyntaxError(exc.message) from None
    selection = doc.definitions[0].selection_set  # type: ignore[attr-defined]
    assert isinstance(selection, SelectionSetNode)
    return selection


def normalize_field_set(text: str) -> str:
    """One spelling per field set ("id  org{ id }" -> "id org { id }"), for comparing."""
    printed = print_ast(parse_field_set(text))
    return " ".join(printed.strip()[1:-1].split())


def named_type(type_string: str) -> str:
    return type_string.replace("[", "").replace("]", "").replace("!", "")


@dataclass(frozen=True, slots=True)
class Selected:
    """One field a field set selects: where, what the subgraph declares (None if nothing), and
    how deep (0 for the fields of the type the set is on)."""

    parent: str
    name: str
    field: Field | None
    node: FieldNode
    depth: int
    in_fragment: bool = False  # selected inside an inline fragment (at any level above)


@dataclass(frozen=True, slots=True)
class BadFragment:
    type_condition: str


def walk(
    subgraph: Subgraph,
    type_name: str,
    selection: SelectionSetNode,
    depth: int = 0,
    in_fragment: bool = False,
) -> Iterator[Selected | BadFragment]:
    """Every field selected, depth first. Unknown fields come with `field=None` and are not
    descended into; inline fragments on types the subgraph lacks come as `BadFragment`."""
    type_def = subgraph.types.get(type_name)
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            target = node.type_condition.name.value if node.type_condition else type_name
            if target not in subgraph.types:
                yield BadFragment(target)
                continue
            yield from walk(subgraph, target, node.selection_set, depth, True)
            continue
        if not isinstance(node, FieldNode):
            continue
        name = node.name.value
        if name == "__typename":
            continue
        field = type_def.fields.get(name) if type_def else None
        yield Selected(type_name, name, field, node, depth, in_fragment)
        if field is not None and node.selection_set is not None:
            target = named_type(field.type)
            yield from walk(subgraph, target, node.selection_set, depth + 1, in_fragment)


def is_leaf(subgraph: Subgraph, type_name: str) -> bool:
    type_def = subgraph.types.get(type_name)
    return type_name in BUILT_IN_SCALARS or (type_def is not None and type_def.kind in LEAF_KINDS)


def selected_coordinates(subgraph: Subgraph, type_name: str, text: str) -> set[tuple[str, str]]:
    """(type, field) of every field the set selects; empty when it does not parse."""
    try:
        selection = parse_field_set(text)
    except FieldSetSyntaxError:
        return set()
    return {
        (s.parent, s.name)
        for s in walk(subgraph, type_name, selection)
        if isinstance(s, Selected) and s.field is not None
    }
