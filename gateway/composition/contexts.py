"""@context / @fromContext (Federation 2.8): an argument whose value the gateway takes from an
ancestor in the client's path instead of from the client.

`type User @context(name: "userContext") { locale: String cart: Cart }` sets a context;
`greeting(locale: String @fromContext(field: "$userContext { locale }"))` on a field below reads
it. The supergraph names each context after the subgraph that sets it ("shop__userContext"),
keeps @context on the setting types and records the argument in `@join__field(contextArguments:)`;
the argument itself leaves the supergraph and the API schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.composition.errors import ErrorLog
from gateway.composition.field_sets import FieldSetSyntaxError, named_type, parse_field_set
from gateway.composition.subgraph_model import InputValue, Kind, Subgraph, TypeDef
from gateway.composition.type_refs import is_non_null, nullable

CONTEXT_LINK = '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)'
CONTEXT_DEFINITIONS = (
    "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION\n\n"
    "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION"
    "\n\nscalar context__ContextFieldValue"
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_REFERENCE = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.DOTALL)


def context_reference(text: str) -> tuple[str, str] | None:
    """ "$userContext { locale }" -> ("userContext", " { locale }"), as the supergraph
    records the selection (verbatim, after the context's name)."""
    match = _REFERENCE.match(text)
    return (match.group(1), match.group(2)) if match else None


def qualified(subgraph: Subgraph, context: str) -> str:
    """The supergraph's name of a context a subgraph sets."""
    return f"{subgraph.name}__{context}"


def contextual_arguments(type_def: TypeDef) -> Iterator[tuple[str, InputValue]]:
    """(field name, argument) of every @fromContext argument of the type's fields."""
    for f in type_def.fields.values():
        for arg in f.args.values():
            if arg.from_context is not None:
                yield f.name, arg


def check_contexts(subgraph: Subgraph, log: ErrorLog) -> None:
    def error(code: str, coordinate: str, message: str, hint: str) -> None:
        log.add(code, message, subgraphs=[subgraph.name], coordinate=coordinate, hint=hint)

    setters: dict[str, list[TypeDef]] = {}
    for type_def in subgraph.types.values():
        for name in type_def.contexts:
            setters.setdefault(name, []).append(type_def)
            if not _NAME.match(name):
                error(
                    "CONTEXT_NAME_INVALID",
                    type_def.name,
                    f'Context name "{name}" is invalid. It should have only alphanumeric '
                    "characters.",
                    "name contexts with letters and digits, starting with a letter.",
                )
    for type_def in subgraph.types.values():
        keyless_reported = False
        for field_name, arg in contextual_arguments(type_def):
            coordinate = f"{type_def.name}.{field_name}({arg.name}:)"
            assert arg.from_context is not None
            reference = context_reference(arg.from_context)
            if reference is None:
                error(
                    "NO_CONTEXT_IN_SELECTION",
                    coordinate,
                    f'@fromContext argument does not reference a context "{arg.from_context}".',
                    'start the field with the context\'s name: "$userContext { locale }".',
                )
                continue
            name, selection = reference
            if type_def.kind == Kind.INTERFACE and not type_def.interface_object:
                error(
                    "CONTEXT_NOT_SET",
                    coordinate,
                    "@fromContext argument cannot be used on a field that exists on an abstract "
                    f'type "{coordinate}".',
                    "put the contextual argument on the implementing types' fields.",
                )
                continue
            if arg.default is not None:
                error(
                    "CONTEXT_NOT_SET",
                    coordinate,
                    f'@fromContext arguments may not have a default value: "{coordinate}".',
                    "remove the default value.",
                )
            if name not in setters:
                error(
                    "CONTEXT_NOT_SET",
                    coordinate,
                    f'Context "{name}" is used at location "{coordinate}" but is never set.',
                    f'set it with @context(name: "{name}") on a type above this field.',
                )
                continue
            if not keyless_reported and not any(k.resolvable for k in type_def.keys):
                keyless_reported = True
                error(
                    "CONTEXT_NO_RESOLVABLE_KEY",
                    type_def.name,
                    f'Object "{type_def.name}" has no resolvable key but has a field with a '
                    "contextual argument.",
                    f'give "{type_def.name}" a resolvable @key: the gateway fetches the field '
                    "with the context's value through it.",
                )
            for setter in setters[name]:
                problem = _selection_problem(subgraph, setter, selection, arg.type)
                if problem is not None:
                    error(
                        "CONTEXT_INVALID_SELECTION",
                        coordinate,
                        f'Context "{name}" is used in "{coordinate}" but the selection is '
                        f"invalid{problem}{'' if problem.endswith('.') else '.'}",
                        f'select one field of "{setter.name}" (with inline fragments for '
                        "abstract types) whose type fits the argument.",
                    )


def _selection_problem(
    subgraph: Subgraph, setter: TypeDef, selection: str, expected: str
) -> str | None:
    try:
        parsed = parse_field_set(selection)
    except FieldSetSyntaxError as exc:
        return f": {exc}"
    found = _value_types(subgraph, setter.name, parsed)
    if isinstance(found, str):
        return found
    for value_type in found:
        if value_type is not None and not _fits(value_type, expected):
            return (
                f': the type of the selection "{value_type}" does not match the expected '
                f'type "{expected}"'
            )
    return None


def _value_types(
    subgraph: Subgraph, type_name: str, selection: SelectionSetNode
) -> list[str | None] | str:
    """The type of the value a context selection picks (one per type condition), or what is
    wrong with it. None where a list on the way makes the type not comparable."""
    fields = [s for s in selection.selections if isinstance(s, FieldNode)]
    fragments = [s for s in selection.selections if isinstance(s, InlineFragmentNode)]
    if len(fields) > 1 or (fields and fragments):
        return ": multiple selections are made"
    out: list[str | None] = []
    for fragment in fragments:
        target = fragment.type_condition.name.value if fragment.type_condition else type_name
        inner = _value_types(subgraph, target, fragment.selection_set)
        if isinstance(inner, str):
            return inner
        out += inner
    for node in fields:
        type_def = subgraph.types.get(type_name)
        declared = type_def.fields.get(node.name.value) if type_def else None
        if declared is None:
            return (
                f' for type {type_name}. Error: Cannot query field "{node.name.value}" on type '
                f'"{type_name}".'
            )
        if node.selection_set is None:
            out.append(declared.type)
            continue
        inner = _value_types(subgraph, named_type(declared.type), node.selection_set)
        if isinstance(inner, str):
            return inner
        out += [None if "[" in declared.type else t for t in inner]
    return out


def _fits(value_type: str, argument_type: str) -> bool:
    """Whether a value of `value_type` may be passed where `argument_type` is expected."""
    if is_non_null(argument_type):
        return is_non_null(value_type) and _fits(value_type[:-1], argument_type[:-1])
    value_type = nullable(value_type)
    if argument_type.startswith("["):
        return value_type.startswith("[") and _fits(value_type[1:-1], argument_type[1:-1])
    return value_type == argument_type
