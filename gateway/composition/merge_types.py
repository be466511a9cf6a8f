"""Merging the subgraphs' types into one schema: kinds, fields and their types, arguments,
input fields, enum values and union members."""

from __future__ import annotations

from collections.abc import Callable

from gateway.composition.errors import ErrorLog
from gateway.composition.executable_directives import merge_executable_directives
from gateway.composition.join_metadata import is_federation_extension
from gateway.composition.subgraph_model import Element, InputValue, Kind, Subgraph, TypeDef
from gateway.composition.supergraph_model import (
    MergedEnumValue,
    MergedField,
    MergedInputValue,
    MergedSchema,
    MergedType,
)
from gateway.composition.type_refs import (
    is_non_null,
    is_subtype,
    most_general,
    most_specific_input,
    named,
)


def _merge_element(target: Element, source: Element) -> None:
    if target.description is None and source.description is not None:
        target.description = source.description
    if target.deprecated is None and source.deprecated is not None:
        target.deprecated = source.deprecated
    target.inaccessible |= source.inaccessible
    target.tags.extend(t for t in source.tags if t not in target.tags)
    target.access.merge(source.access)


def _graphs(schema: MergedSchema, graphs: list[str]) -> list[str]:
    return [schema.name_of(g) for g in graphs]


def merge_schema(subgraphs: list[Subgraph], log: ErrorLog) -> MergedSchema:
    schema = MergedSchema({s.graph_id: s for s in subgraphs})
    schema.key_fields_anywhere = {c for s in subgraphs for c in s.key_fields}
    schema.executable_directives = merge_executable_directives(subgraphs, log)
    _collect_types(schema, log)
    enum_usage = _enum_usage(schema)
    for merged in schema.types.values():
        if merged.kind in (Kind.OBJECT, Kind.INTERFACE):
            _merge_fields(schema, merged, log)
        elif merged.kind == Kind.INPUT_OBJECT:
            _merge_input_fields(schema, merged, log)
        elif merged.kind == Kind.ENUM:
            _merge_enum(schema, merged, enum_usage.get(merged.name, set()), log)
        elif merged.kind == Kind.UNION:
            for graph, type_def in merged.by_graph.items():
                for member in type_def.members:
                    merged.members.setdefault(member, []).append(graph)
    _add_interface_object_fields(schema)
    _propagate_access(schema)
    return schema


def _propagate_access(schema: MergedSchema) -> None:
    """Authorisation that guards an implementation also guards its interface (and a field's
    rule on an @interfaceObject also the implementations' field), so that reading through
    the interface asks no less."""
    interfaces = [t for t in schema.types.values() if t.kind == Kind.INTERFACE]
    for interface in interfaces:
        if not interface.interface_object_graphs:
            continue
        for type_name in schema.implementations(interface.name):
            for name, field in schema.types[type_name].fields.items():
                if name in interface.fields and not field.from_interface_object:
                    field.access.merge(interface.fields[name].access)
    for interface in interfaces:
        for type_name in schema.implementations(interface.name):
            implementation = schema.types[type_name]
            interface.access.merge(implementation.access)
            for name, field in interface.fields.items():
                if name in implementation.fields:
                    field.access.merge(implementation.fields[name].access)


def _collect_types(schema: MergedSchema, log: ErrorLog) -> None:
    kinds: dict[str, dict[Kind, list[str]]] = {}
    for graph, subgraph in schema.subgraphs.items():
        for type_def in subgraph.types.values():
            kinds.setdefault(type_def.name, {}).setdefault(type_def.kind, []).append(graph)
    for name, by_kind in kinds.items():
        if len(by_kind) > 1:
            described = " but ".join(
                f"{kind.value} Type in subgraph{'s' if len(g) > 1 else ''} "
                + ", ".join(f'"{n}"' for n in _graphs(schema, g))
                for kind, g in by_kind.items()
            )
            log.add(
                "TYPE_KIND_MISMATCH",
                f'Type "{name}" has mismatched kind: it is defined as {described}.',
                subgraphs=[n for g in by_kind.values() for n in _graphs(schema, g)],
                coordinate=name,
                hint=f'declare "{name}" as the same kind of type in every subgraph, or rename it '
                "in the subgraphs where it means something else.",
            )
    for graph, subgraph in schema.subgraphs.items():
        for type_def in subgraph.types.values():
            if len(kinds[type_def.name]) > 1:
                continue
            merged = schema.types.get(type_def.name)
            if merged is None:
                merged = schema.types[type_def.name] = MergedType(
                    name=type_def.name, kind=type_def.kind
                )
            merged.by_graph[graph] = type_def
            _merge_element(merged, type_def)
            if merged.specified_by is None:
                merged.specified_by = type_def.specified_by
            for interface in type_def.interfaces:
                if interface not in merged.interfaces:
                    merged.interfaces.append(interface)


def _is_possible(schema: MergedSchema) -> Callable[[str, str], bool]:
    def is_possible(abstract: str, concrete: str) -> bool:
        merged = schema.types.get(abstract)
        if merged is None:
            return False
        if merged.kind == Kind.UNION:
            return any(concrete in t.members for t in merged.by_graph.values())
        target = schema.types.get(concrete)
        return (
            merged.kind == Kind.INTERFACE and target is not None and abstract in target.interfaces
        )

    return is_possible


def _merge_fields(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
    for graph, type_def in merged.by_graph.items():
        for field in type_def.fields.values():
            merged_field = merged.fields.get(field.name)
            if merged_field is None:
                merged_field = merged.fields[field.name] = MergedField(name=field.name)
            merged_field.by_graph[graph] = field
            _merge_element(merged_field, field)
    is_possible = _is_possible(schema)
    for merged_field in merged.fields.values():
        _merge_field_type(schema, merged, merged_field, is_possible, log)
        _merge_arguments(schema, merged, merged_field, log)
        _describe_from_override(merged, merged_field)


def _describe_from_override(merged: MergedType, merged_field: MergedField) -> None:
    """A field moved with @override takes its description from the subgraph that took it."""
    if not any(t.keys for t in merged.by_graph.values()) or merged_field.description is None:
        return
    for declared in merged_field.by_graph.values():
        if declared.override and not declared.shareable:
            merged_field.description = declared.description


def _merge_field_type(
    schema: MergedSchema,
    merged: MergedType,
    merged_field: MergedField,
    is_possible: Callable[[str, str], bool],
    log: ErrorLog,
) -> None:
    coordinate = f"{merged.name}.{merged_field.name}"
    resolving = [
        f.type
        for g, f in merged_field.by_graph.items()
        if not f.external or _fed1_external_in_definition(schema, merged, g)
    ]
    declared = resolving or [f.type for f in merged_field.by_graph.values()]
    general = most_general(declared, is_possible)
    if general is None:
        _type_mismatch(schema, coordinate, merged_field, log)
        merged_field.type = declared[0]
        return
    merged_field.type = general
    for graph, f in merged_field.by_graph.items():
        if (
            f.type == general
            or not f.external
            or _fed1_external_in_definition(schema, merged, graph)
        ):
            continue
        name = schema.name_of(graph)
        if (merged.name, f.name) in schema.key_fields_anywhere:
            # a key field: as resolved elsewhere, or non-null where that is nullable
            if not is_subtype(f.type, general, is_possible):
                _type_mismatch(schema, coordinate, merged_field, log)
            continue
        log.add(
            "EXTERNAL_TYPE_MISMATCH",
            f'Type of field "{coordinate}" is incompatible across subgraphs (where marked '
            f'@external): it has type "{general}" in the subgraphs that resolve it but type '
            f'"{f.type}" in subgraph "{name}".',
            subgraphs=[name],
            coordinate=coordinate,
            hint=f'declare the @external field as it is where it is resolved: "{general}".',
        )


def _type_mismatch(
    schema: MergedSchema, coordinate: str, merged_field: MergedField, log: ErrorLog
) -> None:
    groups: dict[str, list[str]] = {}
    for graph, f in merged_field.by_graph.items():
        groups.setdefault(f.type, []).append(schema.name_of(graph))
    described = " but ".join(
        f'type "{t}" in subgraph{"s" if len(n) > 1 else ""} ' + ", ".join(f'"{x}"' for x in n)
        for t, n in groups.items()
    )
    log.add(
        "FIELD_TYPE_MISMATCH",
        f'Type of field "{coordinate}" is incompatible across subgraphs: it has {described}.',
        subgraphs=[n for names in groups.values() for n in names],
        coordinate=coordinate,
        hint="declare the field with the same type everywhere (nullability may differ; "
        "the supergraph takes the most nullable one).",
    )


def _fed1_external_in_definition(schema: MergedSchema, merged: MergedType, graph: str) -> bool:
    """Federation 1 treats @external as such only in a type extension marked @extends; in an
    `extend type` block the field's type counts like any declaration."""
    subgraph = schema.subgraphs[graph]
    return subgraph.is_fed1 and not is_federation_extension(merged.by_graph[graph], subgraph)


def _merge_arguments(
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
        if missing and required_in:
            log.add(
                "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                f'Argument "{coordinate}" is required in some subgraphs but does not appear in '
                f"all subgraphs: it is required in {_names(schema, required_in)} but does not "
                f"appear in {_names(schema, missing)}.",
                subgraphs=_graphs(schema, required_in + missing),
                coordinate=coordinate,
                hint="add the argument to the field in every subgraph, or make it optional.",
            )
            continue
        merged_arg = _merge_input_value(schema, arg_name, declared, coordinate, "ARGUMENT", log)
        if merged_arg is not None and not missing:
            merged_field.args[arg_name] = merged_arg


def _names(schema: MergedSchema, graphs: list[str]) -> str:
    return ", ".join(f'"{schema.name_of(g)}"' for g in graphs)


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
        _merge_element(merged, value)
    merged_type = most_specific_input([v.type for v in declared.values()])
    if merged_type is None:
        code = "FIELD_ARGUMENT_TYPE_MISMATCH" if what == "ARGUMENT" else "FIELD_TYPE_MISMATCH"
        types = "; ".join(f'"{v.type}" in "{schema.name_of(g)}"' for g, v in declared.items())
        log.add(
            code,
            f'Type of "{coordinate}" is incompatible across subgraphs: {types}.',
            subgraphs=_graphs(schema, list(declared)),
            coordinate=coordinate,
            hint="declare it with the same type everywhere (only nullability may differ).",
        )
        return None
    merged.type = merged_type
    defaults = {g: v.default for g, v in declared.items() if v.default is not None}
    if len(set(defaults.values())) > 1:
        code = (
            "FIELD_ARGUMENT_DEFAULT_MISMATCH"
            if what == "ARGUMENT"
            else "INPUT_FIELD_DEFAULT_MISMATCH"
        )
        values = "; ".join(f'{d} in "{schema.name_of(g)}"' for g, d in defaults.items())
        log.add(
            code,
            f'"{coordinate}" has incompatible default values across subgraphs: {values}.',
            subgraphs=_graphs(schema, list(defaults)),
            coordinate=coordinate,
            hint="give it the same default value everywhere.",
        )
        return None
    if defaults and (what == "ARGUMENT" or len(defaults) == len(declared)):
        merged.default = next(iter(defaults.values()))
    return merged


def _merge_input_fields(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
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
                f"appear in all subgraphs: it is required in {_names(schema, required_in)} but "
                f"does not appear in {_names(schema, missing)}.",
                subgraphs=_graphs(schema, required_in + missing),
                coordinate=coordinate,
                hint="add the field to the input type in every subgraph, or make it optional.",
            )
            continue
        merged_value = _merge_input_value(schema, field_name, declared, coordinate, "FIELD", log)
        if merged_value is not None and not missing:
            merged.input_fields[field_name] = merged_value
    if names and not merged.input_fields:
        log.add(
            "EMPTY_MERGED_INPUT_TYPE",
            f'None of the fields of input object type "{merged.name}" are consistently defined '
            "in all the subgraphs defining that type.",
            subgraphs=_graphs(schema, list(merged.by_graph)),
            coordinate=merged.name,
            hint="declare at least one field of the input type in every subgraph that has it.",
        )


def _enum_usage(schema: MergedSchema) -> dict[str, set[str]]:
    """Enum name -> {"input", "output"}: where any subgraph uses it."""
    usage: dict[str, set[str]] = {}
    for subgraph in schema.subgraphs.values():
        for type_def in subgraph.types.values():
            for field in type_def.fields.values():
                usage.setdefault(named(field.type), set()).add("output")
                for arg in field.args.values():
                    usage.setdefault(named(arg.type), set()).add("input")
            for value in type_def.input_fields.values():
                usage.setdefault(named(value.type), set()).add("input")
    return usage


def _merge_enum(schema: MergedSchema, merged: MergedType, usage: set[str], log: ErrorLog) -> None:
    for graph, type_def in merged.by_graph.items():
        for declared in type_def.values.values():
            merged_value = merged.values.get(declared.name)
            if merged_value is None:
                merged_value = merged.values[declared.name] = MergedEnumValue(name=declared.name)
            merged_value.by_graph[graph] = declared
            _merge_element(merged_value, declared)
    everywhere = len(merged.by_graph)
    partial = [v for v in merged.values.values() if len(v.by_graph) < everywhere]
    # a value hidden with @inaccessible may be missing elsewhere, even in an input-output enum
    consistent = [v for v in partial if not v.inaccessible]
    if usage == {"input", "output"} and consistent:
        for value in consistent:
            lacking = [g for g in merged.by_graph if g not in value.by_graph]
            log.add(
                "ENUM_VALUE_MISMATCH",
                f'Enum type "{merged.name}" is used as both input type and output type, but '
                f'value "{value.name}" is not defined in all the subgraphs defining '
                f'"{merged.name}": it is defined in {_names(schema, list(value.by_graph))} but '
                f"not in {_names(schema, lacking)}.",
                subgraphs=_graphs(schema, list(merged.by_graph)),
                coordinate=f"{merged.name}.{value.name}",
                hint="an enum used for both input and output must have the same values in "
                "every subgraph: add the value everywhere (with @inaccessible if it should stay "
                "hidden) or remove it.",
            )
    elif usage == {"input"}:
        for value in partial:
            del merged.values[value.name]
        if not merged.values:
            log.add(
                "EMPTY_MERGED_ENUM_TYPE",
                f'None of the values of enum type "{merged.name}" are defined consistently in '
                "all the subgraphs defining that type.",
                subgraphs=_graphs(schema, list(merged.by_graph)),
                coordinate=merged.name,
                hint="an enum used only as input keeps the values every subgraph has: share at "
                "least one.",
            )


def _add_interface_object_fields(schema: MergedSchema) -> None:
    """Fields an @interfaceObject adds to an interface appear on every implementation too."""
    for interface in schema.types.values():
        if interface.kind != Kind.INTERFACE or not interface.interface_object_graphs:
            continue
        for type_name in schema.implementations(interface.name):
            target = schema.types[type_name]
            for name, interface_field in interface.fields.items():
                if name in target.fields:
                    continue
                added = MergedField(
                    name=name,
                    type=interface_field.type,
                    args=dict(interface_field.args),
                    from_interface_object=True,
                )
                _merge_element(added, interface_field)
                target.fields[name] = added


def type_def_in(schema: MergedSchema, graph: str, type_name: str) -> TypeDef | None:
    return schema.subgraphs[graph].types.get(type_name)
