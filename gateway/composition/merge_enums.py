"""Merging enums: the union of the values when only output uses the enum, the intersection
when only input does, the same values everywhere when both do (@inaccessible ones aside)."""

from __future__ import annotations

from gateway.composition.errors import ErrorLog
from gateway.composition.supergraph_model import (
    MergedEnumValue,
    MergedSchema,
    MergedType,
    merge_element,
)
from gateway.composition.type_refs import named


def enum_usage(schema: MergedSchema) -> dict[str, set[str]]:
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


def merge_enum(schema: MergedSchema, merged: MergedType, usage: set[str], log: ErrorLog) -> None:
    for graph, type_def in merged.by_graph.items():
        for declared in type_def.values.values():
            merged_value = merged.values.get(declared.name)
            if merged_value is None:
                merged_value = merged.values[declared.name] = MergedEnumValue(name=declared.name)
            merged_value.by_graph[graph] = declared
            merge_element(merged_value, declared)
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
                f'"{merged.name}": it is defined in {schema.quoted(list(value.by_graph))} but '
                f"not in {schema.quoted(lacking)}.",
                subgraphs=schema.names_of(list(merged.by_graph)),
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
                subgraphs=schema.names_of(list(merged.by_graph)),
                coordinate=merged.name,
                hint="an enum used only as input keeps the values every subgraph has: share at "
                "least one.",
            )
