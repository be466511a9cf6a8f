"""Merging arguments and input object fields: each must be declared alike (nullability may
differ: the supergraph takes the strictest), and required ones everywhere."""

from __future__ import annotations

from graphql import (
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    ValueNode,
    parse_value,
    print_ast,
)

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import InputValue
from gateway.composition.supergraph_model import (
    MergedField,
    MergedInputValue,
    MergedSchema,
    MergedType,
    merge_element,
)
from gateway.composition.type_refs import is_non_null, most_specific_input


def merge_arguments(
    schema: MergedSchema, merged: MergedType, merged_field: MergedField, log: ErrorLog
) -> None:
    names: list[str] = []
    for f in merged_field.by_graph.values():
        names.extend(a for a in f.args if a not in names)
    for arg_name in names:
        coordinate = f"{merged.name}.{merged_field.name}({arg_name}:)"
        declared = {
            g: f.args[arg_name] for g, f in merged_field.by_graph.items() if arg_name in f.args
        }
        missing = [g for g in merged_field.by_graph if g not in declared]
        required_in = [g for g, a in declared.items() if is_non_null(a.type) and a.default is None]
        if any(a.from_context is not None for a in declared.values()):
            _contextual(schema, coordinate, declared, log)
            continue  # the gateway passes it: it stays out of the supergraph
        by_graph = merged_field.by_graph
        external_missing = [g for g in missing if by_graph[g].external]
        if external_missing and any(not by_graph[g].external for g in declared):
            field = f"{merged.name}.{merged_field.name}"
            log.add(
                "EXTERNAL_ARGUMENT_MISSING",
                f'Field "{field}" is missing argument "{coordinate}" in some subgraphs where it '
                f'is marked @external: argument "{coordinate}" is declared in '
                f"{schema.quoted(list(declared))} but not in {schema.quoted(external_missing)} "
                f'(where "{field}" is @external).',
                subgraphs=schema.names_of(list(declared) + external_missing),
                coordinate=coordinate,
                hint="declare the @external field with the arguments it has where it is resolved.",
            )
            continue
        if missing and required_in:
            log.add(
                "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                f'Argument "{coordinate}" is required in some subgraphs but does not appear in '
                f"all subgraphs: it is required in {schema.quoted(required_in)} but does not "
                f"appear in {schema.quoted(missing)}.",
                subgraphs=schema.names_of(required_in + missing),
                coordinate=coordinate,
                hint="add the argument to the field in every subgraph, or make it optional.",
            )
            continue
        merged_arg = _merge_input_value(schema, arg_name, declared, coordinate, "ARGUMENT", log)
        if merged_arg is not None and not missing:
            merged_field.args[arg_name] = merged_arg


def _contextual(
    schema: MergedSchema, coordinate: str, declared: dict[str, InputValue], log: ErrorLog
) -> None:
    """An argument @fromContext in one subgraph may be an ordinary one elsewhere only where
    clients need not give it (the supergraph leaves it out)."""
    required = [
        g
        for g, a in declared.items()
        if a.from_context is None and is_non_null(a.type) and a.default is None
    ]
    if required:
        log.add(
            "CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS",
            f'Argument "{coordinate}" is contextual in at least one subgraph but in '
            f'"{coordinate}" it does not have @fromContext, is not nullable and has no default '
            f"value (in {schema.quoted(required)}).",
            subgraphs=schema.names_of(list(declared)),
            coordinate=coordinate,
            hint="take it @fromContext in every subgraph, or make it nullable where it is not.",
        )


def _merge_input_value(
    schema: MergedSchema,
    name: str,
    declared: dict[str, InputValue],
    coordinate: str,
    what: str,
    log: ErrorLog,
) -> MergedInputValue | None:
    merged = MergedInputValue(name=name, by_graph=dict(declared))
    for value in declared.values():
        merge_element(merged, value)
    merged_type = most_specific_input([v.type for v in declared.values()])
    if merged_type is None:
        code = "FIELD_ARGUMENT_TYPE_MISMATCH" if what == "ARGUMENT" else "FIELD_TYPE_MISMATCH"
        types = "; ".join(f'"{v.type}" in "{schema.name_of(g)}"' for g, v in declared.items())
        log.add(
            code,
            f'Type of "{coordinate}" is incompatible across subgraphs: {types}.',
            subgraphs=schema.names_of(list(declared)),
            coordinate=coordinate,
            hint="declare it with the same type everywhere (only nullability may differ).",
        )
        return None
    merged.type = merged_type
    defaults = {g: v.default for g, v in declared.items() if v.default is not None}
    if len({same_value(d) for d in defaults.values()}) > 1:
        code = (
            "FIELD_ARGUMENT_DEFAULT_MISMATCH"
            if what == "ARGUMENT"
            else "INPUT_FIELD_DEFAULT_MISMATCH"
        )
        values = "; ".join(f'{d} in "{schema.name_of(g)}"' for g, d in defaults.items())
        log.add(
            code,
            f'"{coordinate}" has incompatible default values across subgraphs: {values}.',
            subgraphs=schema.names_of(list(defaults)),
            coordinate=coordinate,
            hint="give it the same default value everywhere.",
        )
        return None
    if defaults and (what == "ARGUMENT" or len(defaults) == len(declared)):
        merged.default = next(iter(defaults.values()))
    return merged


def same_value(value: str) -> str:
    """A default value printed so that equal values print alike: an input object's fields
    in name order (their order carries no meaning)."""
    try:
        node = parse_value(value)
    except GraphQLError:
        return value
    return print_ast(_sorted_fields(node))


def _sorted_fields(node: ValueNode) -> ValueNode:
    if isinstance(node, ObjectValueNode):
        fields = sorted(node.fields, key=lambda f: f.name.value)
        return ObjectValueNode(
            fields=tuple(
                ObjectFieldNode(name=f.name, value=_sorted_fields(f.value)) for f in fields
            )
        )
    if isinstance(node, ListValueNode):
        return ListValueNode(values=tuple(_sorted_fields(v) for v in node.values))
    return node


def merge_input_fields(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
    names: list[str] = []
    for type_def in merged.by_graph.values():
        names.extend(f for f in type_def.input_fields if f not in names)
    for field_name in names:
        coordinate = f"{merged.name}.{field_name}"
        declared = {
            g: t.input_fields[field_name]
            for g, t in merged.by_graph.items()
            if field_name in t.input_fields
        }
        missing = [g for g in merged.by_graph if g not in declared]
        required_in = [g for g, v in declared.items() if is_non_null(v.type) and v.default is None]
        if missing and required_in:
            log.add(
                "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                f'Input object field "{coordinate}" is required in some subgraphs but does not '
                f"appear in all subgraphs: it is required in {schema.quoted(required_in)} but "
                f"does not appear in {schema.quoted(missing)}.",
                subgraphs=schema.names_of(required_in + missing),
                coordinate=coordinate,
                hint="add the field to the input type in every subgraph, or make it optional.",
            )
            continue
        merged_value = _merge_input_value(schema, field_name, declared, coordinate, "FIELD", log)
        if merged_value is not None and not missing:
            merged.input_fields[field_name] = merged_value
    if names and not any(all(n in t.input_fields for t in merged.by_graph.values()) for n in names):
        log.add(
            "EMPTY_MERGED_INPUT_TYPE",
            f'None of the fields of input object type "{merged.name}" are consistently defined '
            "in all the subgraphs defining that type.",
            subgraphs=schema.names_of(list(merged.by_graph)),
            coordinate=merged.name,
            hint="declare at least one field of the input type in every subgraph that has it.",
        )
