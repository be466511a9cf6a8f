"""@inaccessible rules: what clients see must still be a valid schema, and nothing they may
use may depend on what they cannot see."""

from __future__ import annotations

from graphql import EnumValueNode, GraphQLSyntaxError, ListValueNode, ObjectValueNode, parse_value

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import Kind
from gateway.composition.supergraph_model import MergedInputValue, MergedSchema, MergedType
from gateway.composition.type_refs import is_non_null, named


def _check_hidden_implementations(
    schema: MergedSchema, merged: MergedType, hidden: set[str], log: ErrorLog
) -> None:
    """A field that implements a visible interface field cannot be hidden: the API schema
    would not implement the interface."""
    for field in merged.fields.values():
        if not field.inaccessible:
            continue
        for interface in merged.interfaces:
            interface_type = schema.types.get(interface)
            if interface in hidden or interface_type is None:
                continue
            interface_field = interface_type.fields.get(field.name)
            if interface_field is None or interface_field.inaccessible:
                continue
            coordinate = f"{merged.name}.{field.name}"
            log.add(
                "IMPLEMENTED_BY_INACCESSIBLE",
                f'Field "{coordinate}" is @inaccessible but implements the interface field '
                f'"{interface}.{field.name}", which is in the API schema.',
                subgraphs=schema.names_of(list(field.by_graph)),
                coordinate=coordinate,
                hint=f'mark "{interface}.{field.name}" @inaccessible too, or make '
                f'"{coordinate}" visible.',
            )


def check_inaccessible(schema: MergedSchema, log: ErrorLog) -> None:
    hidden = {name for name, t in schema.types.items() if t.inaccessible}
    if "Query" in hidden:
        log.add(
            "QUERY_ROOT_TYPE_INACCESSIBLE",
            "The query root type cannot be @inaccessible.",
            subgraphs=schema.names_of(
                [g for g, t in schema.types["Query"].by_graph.items() if t.inaccessible]
            ),
            coordinate="Query",
            hint="remove @inaccessible from type Query.",
        )
    for merged in schema.types.values():
        if merged.inaccessible:
            continue
        _check_hidden_implementations(schema, merged, hidden, log)
        visible = [f for f in merged.fields.values() if not f.inaccessible]
        children = (
            ("fields", list(merged.fields.values()))
            if merged.fields
            else ("values", list(merged.values.values()))
            if merged.values
            else ("fields", list(merged.input_fields.values()))
        )
        if children[1] and all(c.inaccessible for c in children[1]):
            log.add(
                "ONLY_INACCESSIBLE_CHILDREN",
                f'Type "{merged.name}" is in the API schema but all of its {children[0]} are '
                "@inaccessible.",
                subgraphs=schema.names_of(list(merged.by_graph)),
                coordinate=merged.name,
                hint=f'make one field visible, or mark "{merged.name}" @inaccessible too.',
            )
        references = [
            (f"{merged.name}.{v.name}", v.type)
            for v in merged.input_fields.values()
            if not v.inaccessible
        ]
        for field in visible:
            references.append((f"{merged.name}.{field.name}", field.type))
            references += [
                (f"{merged.name}.{field.name}({a.name}:)", a.type)
                for a in field.args.values()
                if not a.inaccessible
            ]
        inputs = [
            (f"{merged.name}.{v.name}", v, "input field") for v in merged.input_fields.values()
        ]
        for field in visible:
            inputs += [
                (f"{merged.name}.{field.name}({a.name}:)", a, "argument")
                for a in field.args.values()
            ]
        for coordinate, value, what in inputs:
            _check_input(schema, coordinate, value, what, log)
        for coordinate, type_string in references:
            if named(type_string) in hidden:
                log.add(
                    "REFERENCED_INACCESSIBLE",
                    f'Type "{named(type_string)}" is @inaccessible but is referenced by '
                    f'"{coordinate}", which is in the API schema.',
                    subgraphs=schema.names_of(list(merged.by_graph)),
                    coordinate=coordinate,
                    hint=f'mark "{coordinate}" @inaccessible too, or make the type visible.',
                )


def _check_input(
    schema: MergedSchema, coordinate: str, value: MergedInputValue, what: str, log: ErrorLog
) -> None:
    """A hidden argument or input field a client would have to give (REQUIRED_INACCESSIBLE); a
    visible one whose default names a hidden enum value (DEFAULT_VALUE_USES_INACCESSIBLE)."""
    if value.inaccessible:
        if is_non_null(value.type) and value.default is None:
            log.add(
                "REQUIRED_INACCESSIBLE",
                f'{what.capitalize()} "{coordinate}" is @inaccessible but is a required {what} '
                f"of its {'field' if what == 'argument' else 'type'}.",
                subgraphs=schema.names_of(list(value.by_graph)),
                coordinate=coordinate,
                hint="make it optional (nullable or with a default), or visible.",
            )
        return
    if value.default is None:
        return
    try:
        default = parse_value(value.default)
    except GraphQLSyntaxError:
        return
    for hidden in _hidden_enum_values(schema, named(value.type), default):
        log.add(
            "DEFAULT_VALUE_USES_INACCESSIBLE",
            f'Enum value "{hidden}" is @inaccessible but is used in the default value of '
            f'"{coordinate}", which is in the API schema.',
            subgraphs=schema.names_of(list(value.by_graph)),
            coordinate=coordinate,
            hint="use a visible value as the default, or make the enum value visible.",
        )


def _hidden_enum_values(schema: MergedSchema, type_name: str, value: object) -> list[str]:
    merged = schema.types.get(type_name)
    if merged is None:
        return []
    if isinstance(value, ListValueNode):
        return [h for v in value.values for h in _hidden_enum_values(schema, type_name, v)]
    if merged.kind == Kind.ENUM and isinstance(value, EnumValueNode):
        enum_value = merged.values.get(value.value)
        return [f"{type_name}.{value.value}"] if enum_value and enum_value.inaccessible else []
    if merged.kind == Kind.INPUT_OBJECT and isinstance(value, ObjectValueNode):
        out = []
        for item in value.fields:
            input_field = merged.input_fields.get(item.name.value)
            if input_field is not None:
                out += _hidden_enum_values(schema, named(input_field.type), item.value)
        return out
    return []
