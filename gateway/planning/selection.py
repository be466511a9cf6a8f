"""A subgraph selection set under construction, and its rendering to GraphQL text."""

from __future__ import annotations

from graphql import ArgumentNode, ListValueNode, ObjectValueNode, ValueNode, VariableNode

from gateway.errors import PlanningError
from gateway.operation import same_arguments
from gateway.value_text import arguments_text


class FieldEntry:
    __slots__ = ("arguments", "name", "response_key", "shape", "sub")

    def __init__(
        self,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...],
        shape: str | None = None,
    ) -> None:
        self.response_key = response_key
        self.name = name
        self.arguments = arguments
        # its type as the subgraph declares it ("ID!", "[Contact]"), when known (conflicts.py)
        self.shape = shape
        self.sub: SelectionBuilder | None = None

    def selection(self) -> SelectionBuilder:
        if self.sub is None:
            self.sub = SelectionBuilder()
        return self.sub


class SelectionBuilder:
    """Fields by response key, then inline fragments by type condition; insertion ordered."""

    __slots__ = ("fields", "fragments")

    def __init__(self) -> None:
        self.fields: dict[str, FieldEntry] = {}
        self.fragments: dict[str, SelectionBuilder] = {}

    def field(
        self,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...] = (),
        shape: str | None = None,
    ) -> FieldEntry:
        entry = self.fields.get(response_key)
        if entry is None:
            entry = self.fields[response_key] = FieldEntry(response_key, name, arguments, shape)
        elif entry.name != name or not same_arguments(entry.arguments, arguments):
            # the client's fields were validated to merge; only a planner bug gets here, and an
            # error is better than one field's value answered for another
            raise PlanningError(f"response key {response_key!r} used for two different fields")
        return entry

    def has_compatible(
        self, response_key: str, name: str, arguments: tuple[ArgumentNode, ...] = ()
    ) -> bool:
        """Whether `name(arguments)` can take this response key: free, or the same field."""
        entry = self.fields.get(response_key)
        return entry is None or (entry.name == name and same_arguments(entry.arguments, arguments))

    def fragment(self, type_name: str) -> SelectionBuilder:
        builder = self.fragments.get(type_name)
        if builder is None:
            builder = self.fragments[type_name] = SelectionBuilder()
        return builder

    def is_empty(self) -> bool:
        return not self.fields and not any(not f.is_empty() for f in self.fragments.values())

    def render(self, variables: set[str]) -> str:
        parts: list[str] = []
        for entry in self.fields.values():
            text = entry.name
            if entry.response_key != entry.name:
                text = f"{entry.response_key}:{entry.name}"
            if entry.arguments:
                for arg in entry.arguments:
                    _collect_variables(arg.value, variables)
                text += "(" + arguments_text(entry.arguments) + ")"
            if entry.sub is not None:
                inner = entry.sub.render(variables)
                # a composite field needs a non-empty selection; __typename always exists
                text += "{" + (inner or "__typename") + "}"
            parts.append(text)
        for type_name, builder in self.fragments.items():
            inner = builder.render(variables)
            if inner:
                parts.append(f"...on {type_name}{{{inner}}}")
        return " ".join(parts)


def _collect_variables(value: ValueNode, out: set[str]) -> None:
    if isinstance(value, VariableNode):
        out.add(value.name.value)
    elif isinstance(value, ListValueNode):
        for item in value.values:
            _collect_variables(item, out)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            _collect_variables(field.value, out)
