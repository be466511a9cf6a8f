"""Merging the subgraphs' types into one schema: kinds, object and interface fields and their
types, union members; arguments, input objects and enums through their own modules."""

from __future__ import annotations

from collections.abc import Callable

from gateway.composition.composed_directives import merge_composed_directives
from gateway.composition.demand_control import ListSize
from gateway.composition.errors import ErrorLog
from gateway.composition.executable_directives import merge_executable_directives
from gateway.composition.join_metadata import is_federation_extension
from gateway.composition.merge_enums import enum_usage, merge_enum
from gateway.composition.merge_inputs import merge_arguments, merge_input_fields
from gateway.composition.merge_interfaces import add_interface_object_fields, propagate_access
from gateway.composition.subgraph_model import Kind, Subgraph
from gateway.composition.supergraph_model import (
    MergedField,
    MergedSchema,
    MergedType,
    merge_element,
)
from gateway.composition.type_refs import is_subtype, most_general


def merge_schema(subgraphs: list[Subgraph], log: ErrorLog) -> MergedSchema:
    schema = MergedSchema({s.graph_id: s for s in subgraphs})
    schema.key_fields_anywhere = {c for s in subgraphs for c in s.key_fields}
    schema.executable_directives = merge_executable_directives(subgraphs, log)
    _collect_types(schema, log)
    usage = enum_usage(schema)
    for merged in schema.types.values():
        if merged.kind in (Kind.OBJECT, Kind.INTERFACE):
            _merge_fields(schema, merged, log)
        elif merged.kind == Kind.INPUT_OBJECT:
            merge_input_fields(schema, merged, log)
        elif merged.kind == Kind.ENUM:
            merge_enum(schema, merged, usage.get(merged.name, set()), log)
        elif merged.kind == Kind.UNION:
            for graph, type_def in merged.by_graph.items():
                for member in type_def.members:
                    merged.members.setdefault(member, []).append(graph)
    add_interface_object_fields(schema)
    propagate_access(schema)
    merge_composed_directives(schema, log)
    return schema


def _collect_types(schema: MergedSchema, log: ErrorLog) -> None:
    kinds: dict[str, dict[Kind, list[str]]] = {}
    for graph, subgraph in schema.subgraphs.items():
        for type_def in subgraph.types.values():
            kinds.setdefault(type_def.name, {}).setdefault(type_def.kind, []).append(graph)
    for name, by_kind in kinds.items():
        if len(by_kind) > 1:
            described = " but ".join(
                f"{kind.value} Type in subgraph{'s' if len(g) > 1 else ''} "
                + ", ".join(f'"{n}"' for n in schema.names_of(g))
                for kind, g in by_kind.items()
            )
            log.add(
                "TYPE_KIND_MISMATCH",
                f'Type "{name}" has mismatched kind: it is defined as {described}.',
                subgraphs=[n for g in by_kind.values() for n in schema.names_of(g)],
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
            merge_element(merged, type_def)
            if merged.specified_by is None:
                merged.specified_by = type_def.specified_by
            merged.one_of |= type_def.one_of
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
            merge_element(merged_field, field)
            if field.list_size is not None:
                if merged_field.list_size is None:
                    merged_field.list_size = ListSize()
                merged_field.list_size.merge(field.list_size)
    is_possible = _is_possible(schema)
    for merged_field in merged.fields.values():
        _merge_field_type(schema, merged, merged_field, is_possible, log)
        merge_arguments(schema, merged, merged_field, log)
        _describe_from_override(merged, merged_field)
        size = merged_field.list_size
        if size is not None and size.slicing_arguments is not None:
            # slicing arguments the supergraph's field lacks (not in every subgraph) are moot
            kept = [a for a in size.slicing_arguments if a in merged_field.args]
            size.slicing_arguments = kept or None


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
