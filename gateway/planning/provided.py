"""Reading @provides selections: what a parent field's subgraph hands over with its value."""

from __future__ import annotations

from collections.abc import Callable

from graphql import FieldNode, InlineFragmentNode, SelectionNode, SelectionSetNode

# (type condition, concrete type) -> whether a fragment on the condition applies to the type
Applies = Callable[[str, str], bool]


def provided_field(provided: SelectionSetNode | None, name: str) -> FieldNode | None:
    """The provided selection of field `name`; several selections of it merged into one."""
    if provided is None:
        return None
    found = [n for n in provided.selections if isinstance(n, FieldNode) and n.name.value == name]
    if len(found) < 2:
        return found[0] if found else None
    below = tuple(s for n in found if n.selection_set for s in n.selection_set.selections)
    return FieldNode(
        name=found[0].name, selection_set=SelectionSetNode(selections=below) if below else None
    )


def fragment_provided(
    provided: SelectionSetNode | None, concrete: str, applies: Applies | None = None
) -> SelectionSetNode | None:
    """What a @provides provides for objects of one concrete type: its fields, and those of the
    inline fragments that apply to the type (on the type itself, or, by `applies`, on an
    interface or union it belongs to), nested fragments flattened."""
    if provided is None:
        return None
    selections: list[SelectionNode] = []
    _collect(provided, concrete, applies, selections)
    return SelectionSetNode(selections=tuple(selections))


def has_fragments(provided: SelectionSetNode | None) -> bool:
    return provided is not None and any(
        isinstance(s, InlineFragmentNode) for s in provided.selections
    )


def _collect(
    provided: SelectionSetNode, concrete: str, applies: Applies | None, out: list[SelectionNode]
) -> None:
    for node in provided.selections:
        if isinstance(node, FieldNode):
            out.append(node)
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            if (
                condition is None
                or condition == concrete
                or (applies is not None and applies(condition, concrete))
            ):
                _collect(node.selection_set, concrete, applies, out)
