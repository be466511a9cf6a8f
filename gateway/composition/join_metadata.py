"""What the supergraph's join directives say about each type and field: which subgraphs know a
type (and by which keys), which resolve a field (and with which @requires / @provides /
@override), which implement an interface."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.composition.contexts import context_reference, qualified
from gateway.composition.subgraph_model import Field, Kind, Subgraph, TypeDef
from gateway.composition.supergraph_model import MergedField, MergedSchema, MergedType


@dataclass(frozen=True, slots=True)
class JoinType:
    graph: str
    key: str | None = None
    extension: bool = False
    resolvable: bool = True
    interface_object: bool = False


@dataclass(frozen=True, slots=True)
class JoinField:
    graph: str | None  # None: a bare @join__field (added through an @interfaceObject)
    requires: str | None = None
    provides: str | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False
    # @fromContext arguments: (context, argument, type, selection)
    context_arguments: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def plain(self) -> bool:
        return self == JoinField(self.graph)


def is_federation_extension(type_def: TypeDef, subgraph: Subgraph) -> bool:
    """Whether a type is an extension in a subgraph, as `@join__type(extension:)` records it."""
    if not type_def.extended:
        return False
    if type_def.extends_directive:
        return True
    if subgraph.is_fed1:
        return False
    return not type_def.has_definition


def effectively_external(
    schema: MergedSchema, subgraph: Subgraph, type_def: TypeDef, field: Field
) -> bool:
    """@external, except on a key field of a type extension, which the subgraph has with
    every reference it returns and every representation it receives, and so resolves itself;
    a field a @provides names stays external (resolvable only where provided).

    (The reference library also lets a Federation 1 extension resolve an unused @external
    field that only some other subgraph keys on; like Apollo's Federation 1 upgrade, which
    drops such fields, we do not.)"""
    if not field.external:
        return False
    coordinate = (type_def.name, field.name)
    if coordinate in subgraph.provided_fields or not type_def.extended:
        return True
    return coordinate not in subgraph.key_fields


def join_types(schema: MergedSchema, merged: MergedType) -> list[JoinType]:
    if merged.name == "Query":
        return [JoinType(graph) for graph in schema.subgraphs]
    out: list[JoinType] = []
    for graph, type_def in merged.by_graph.items():
        subgraph = schema.subgraphs[graph]
        if merged.kind == Kind.OBJECT and not _keeps_object_type(schema, merged, graph):
            continue
        keys = type_def.keys if merged.kind in (Kind.OBJECT, Kind.INTERFACE) else []
        if merged.kind == Kind.INTERFACE and subgraph.is_fed1:
            keys = []
        if not keys:
            out.append(JoinType(graph))
            continue
        if merged.kind == Kind.INTERFACE:
            extension = type_def.extended and not type_def.interface_object
        else:
            extension = is_federation_extension(type_def, subgraph)
        for key in keys:
            out.append(
                JoinType(graph, key.fields, extension, key.resolvable, type_def.interface_object)
            )
    return out


def _keeps_object_type(schema: MergedSchema, merged: MergedType, graph: str) -> bool:
    """A subgraph that only mentions a type's fields as @external (and uses none) does not
    resolve the type: it gets no @join__type."""
    subgraph = schema.subgraphs[graph]
    type_def = merged.by_graph[graph]
    if type_def.keys or type_def.extended:
        return True
    if type_def.has_definition and not (subgraph.is_fed1 and type_def.extends_directive):
        return True
    for field in type_def.fields.values():
        coordinate = (merged.name, field.name)
        if not field.external or coordinate in subgraph.used_fields:
            return True
    return False


def _interface_field_graphs(schema: MergedSchema, merged: MergedType, name: str) -> set[str]:
    graphs: set[str] = set()
    for interface in merged.interfaces:
        interface_type = schema.types.get(interface)
        if interface_type is not None and name in interface_type.fields:
            graphs.update(interface_type.fields[name].by_graph)
    return graphs


def join_fields(schema: MergedSchema, merged: MergedType, field: MergedField) -> list[JoinField]:
    """The field's @join__field directives; [] when the type's @join__type says it all.

    Raises `DroppedField` when no subgraph is left to resolve the field (a Federation 1
    @external field nobody uses)."""
    if field.from_interface_object:
        return [JoinField(None)]
    sources: dict[str, str | None] = {}  # overridden graph -> label
    labels: dict[str, str] = {}
    for graph, declared in field.by_graph.items():
        source = schema.graph_named(declared.override) if declared.override else None
        if source is not None and source in field.by_graph:
            sources[source] = declared.override_label
            if declared.override_label:
                labels[source] = labels[graph] = declared.override_label
    differs = any(f.type != field.type for f in field.by_graph.values())
    in_interface = _interface_field_graphs(schema, merged, field.name)
    entries: list[JoinField] = []
    for graph, declared in field.by_graph.items():
        subgraph = schema.subgraphs[graph]
        type_def = merged.by_graph[graph]
        coordinate = (merged.name, field.name)
        is_key = coordinate in subgraph.key_fields
        required = coordinate in subgraph.required_fields
        provided = coordinate in subgraph.provided_fields
        external = effectively_external(schema, subgraph, type_def, declared)
        used_overridden = graph in sources and (
            (is_key and not declared.external) or graph in in_interface
        )
        if graph in sources:
            if not (graph in labels or used_overridden or required):
                continue
            used_overridden = used_overridden or (required and not external)
        if subgraph.is_fed1 and external and not (required or provided or used_overridden):
            continue
        entry = JoinField(
            graph,
            context_arguments=_context_arguments(subgraph, declared),
            requires=declared.requires,
            provides=declared.provides,
            type=declared.type if differs else None,
            external=external,
            override=declared.override,
            override_label=labels.get(graph),
            used_overridden=used_overridden,
        )
        if (
            external
            and type_def.extended
            and entry == JoinField(graph, external=True)
            and not (required or provided or graph in in_interface)
        ):
            continue
        entries.append(entry)
    if not entries:
        raise DroppedField(f"{merged.name}.{field.name}")
    type_graphs = {j.graph for j in join_types(schema, merged)}
    if all(e.plain for e in entries) and {e.graph for e in entries} == type_graphs:
        return []
    return entries


def _context_arguments(
    subgraph: Subgraph, declared: Field
) -> tuple[tuple[str, str, str, str], ...]:
    out = []
    for arg in declared.args.values():
        reference = context_reference(arg.from_context) if arg.from_context else None
        if reference is not None:
            out.append((qualified(subgraph, reference[0]), arg.name, arg.type, reference[1]))
    return tuple(out)


class DroppedField(Exception):
    """No subgraph resolves the field: it is left out of the supergraph."""


def join_implements(schema: MergedSchema, merged: MergedType) -> list[tuple[str, str]]:
    return [
        (graph, interface)
        for graph, type_def in merged.by_graph.items()
        for interface in type_def.interfaces
    ]


def input_field_join(merged_type: MergedType, name: str) -> list[JoinField]:
    value = merged_type.input_fields[name]
    if all(v.type == value.type for v in value.by_graph.values()):
        return []
    return [JoinField(graph, type=v.type) for graph, v in value.by_graph.items()]
