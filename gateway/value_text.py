"""GraphQL text of argument values, types, arguments and variable definitions, on one line.

What a request's way prints (a normalized operation's fingerprint, arguments compared by their
text, the documents sent to subgraphs) is made of these small nodes, and graphql-core's
`print_ast` is built for whole documents: it lays out every node through a linked list of
buffers, which costs some 5 µs per node and leaves them in reference cycles for the garbage
collector. An operation with hundreds of variables spent milliseconds of the event loop here
before it was planned. The text is the same as `print_ast`'s for values that fit on a line
(`{  }` for an empty object too); longer lists and objects stay on one line (the same value, one
canonical text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NonNullTypeNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    print_ast,
)
from graphql.language.print_string import print_string


def value_text(node: ValueNode) -> str:
    printer = _VALUES.get(type(node))
    # a block string keeps print_ast's layout: its line breaks are the value's
    return printer(node) if printer is not None else print_ast(node)


def type_text(node: TypeNode) -> str:
    if isinstance(node, NonNullTypeNode):
        return type_text(node.type) + "!"
    if isinstance(node, ListTypeNode):
        return "[" + type_text(node.type) + "]"
    assert isinstance(node, NamedTypeNode)
    return node.name.value


def argument_text(node: ArgumentNode) -> str:
    return f"{node.name.value}: {value_text(node.value)}"


def arguments_text(arguments: Iterable[ArgumentNode]) -> str:
    return ",".join(map(argument_text, arguments))


def variable_definition_text(node: VariableDefinitionNode) -> str:
    if node.directives:
        return print_ast(node)
    text = f"${node.variable.name.value}: {type_text(node.type)}"
    if node.default_value is not None:
        text += " = " + value_text(node.default_value)
    return text


def _string(node: StringValueNode) -> str:
    return print_ast(node) if node.block else print_string(node.value)


def _object(node: ObjectValueNode) -> str:
    if not node.fields:
        return "{  }"
    return "{ " + ", ".join(f"{f.name.value}: {value_text(f.value)}" for f in node.fields) + " }"


_VALUES: dict[type[Any], Callable[[Any], str]] = {
    VariableNode: lambda node: "$" + node.name.value,
    IntValueNode: lambda node: node.value,
    FloatValueNode: lambda node: node.value,
    StringValueNode: _string,
    BooleanValueNode: lambda node: "true" if node.value else "false",
    NullValueNode: lambda node: "null",
    EnumValueNode: lambda node: node.value,
    ListValueNode: lambda node: "[" + ", ".join(map(value_text, node.values)) + "]",
    ObjectValueNode: _object,
}
