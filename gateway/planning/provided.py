"""Reading @provides selections: what a parent field's subgraph hands over with its value."""

from __future__ import annotations

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode


def provided_field(provided: SelectionSetNode | None, name: str) -> FieldNode | None:
    if provided is None:
        return None
    for node in provided.selections:
        if isinstance(node, FieldNode) and node.name.value == name:
            return node
    return None


def fragment_provided(provided: SelectionSetNode | None, concrete: str) -> SelectionSetNode | None:
    """What a @provides on an abstract field provides for one of its concrete types."""
    if provided is None:
        return None
    selections = [s for s in provided.selections if isinstance(s, FieldNode)]
    for node in provided.selections:
        if (
            isinstance(node, InlineFragmentNode)
            and node.type_condition is not None
            and node.type_condition.name.value == concrete
        ):
            selections.extend(s for s in node.selection_set.selections if isinstance(s, FieldNode))
    return SelectionSetNode(selections=tuple(selections))
