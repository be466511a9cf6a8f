"""Rules over the merged schema: who may resolve a field (sharing, @external, @override),
extensions with a base, interface objects, and @inaccessible references."""

from __future__ import annotations

from gateway.composition.errors import ErrorLog
from gateway.composition.inaccessible_checks import check_inaccessible
from gateway.composition.subgraph_model import Field, Kind
from gateway.composition.supergraph_model import MergedField, MergedSchema, MergedType

ROOTS = ("Query", "Mutation", "Subscription")


def check_merged(schema: MergedSchema, log: ErrorLog) -> None:
    if "Query" not in schema.types:
        log.add(
            "NO_QUERIES",
            "No queries found in any subgraph: a supergraph must have a query root type.",
            subgraphs=[s.name for s in schema.subgraphs.values()],
            coordinate="Query",
            hint="add at least one field to type Query in some subgraph.",
        )
    for merged in schema.types.values():
        if merged.kind == Kind.OBJECT:
            _check_extension_base(schema, merged, log)
            _check_interface_fields(schema, merged, log)
        if merged.kind == Kind.INTERFACE and merged.interface_object_graphs:
            _check_interface_object(schema, merged, log)
        if merged.kind == Kind.INTERFACE:
            _check_interface_key_implementations(schema, merged, log)
        if merged.kind in (Kind.OBJECT, Kind.INTERFACE):
            for field in merged.fields.values():
                if field.from_interface_object:
                    continue
                _check_sharing(schema, merged, field, log)
                _check_external_on_base(schema, merged, field, log)
                _check_override_chain(schema, merged, field, log)
    check_inaccessible(schema, log)


def _names(schema: MergedSchema, graphs: list[str]) -> str:
    return ", ".join(f'"{schema.name_of(g)}"' for g in graphs)


def _check_extension_base(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
    if merged.name in ROOTS:
        return
    definitions = [
        g
        for g, t in merged.by_graph.items()
        if t.has_definition and not (schema.subgraphs[g].is_fed1 and t.extends_directive)
    ]
    if definitions:
        return
    if len(merged.by_graph) > 1 and all(
        schema.subgraphs[g].is_fed1 and t.extends_directive for g, t in merged.by_graph.items()
    ):
        return
    log.add(
        "EXTENSION_WITH_NO_BASE",
        f'Type "{merged.name}" is an extension type, but there is no type definition for '
        f'"{merged.name}" in any subgraph.',
        subgraphs=[schema.name_of(g) for g in merged.by_graph],
        coordinate=merged.name,
        hint=f'define "type {merged.name}" (without `extend`) in the subgraph that owns it.',
    )


def _resolving_graphs(
    schema: MergedSchema, merged: MergedType, field: MergedField
) -> tuple[list[str], list[str]]:
    """(graphs that resolve the field, those of them where it is not shareable)."""
    resolving: list[str] = []
    not_shareable: list[str] = []
    is_entity = any(t.keys for t in merged.by_graph.values())
    for graph, declared in field.by_graph.items():
        subgraph = schema.subgraphs[graph]
        if declared.external:
            continue
        source = schema.graph_named(declared.override) if declared.override else None
        if source is not None and source in field.by_graph:
            continue
        resolving.append(graph)
        shared = (
            declared.shareable
            or (merged.name, field.name) in subgraph.key_fields
            or (is_entity and subgraph.is_fed1 and declared.in_extension)
        )
        if not shared:
            not_shareable.append(graph)
    return resolving, not_shareable


def _check_sharing(
    schema: MergedSchema, merged: MergedType, field: MergedField, log: ErrorLog
) -> None:
    coordinate = f"{merged.name}.{field.name}"
    if merged.kind == Kind.INTERFACE and not merged.interface_object_graphs:
        return
    graphs = list(field.by_graph)
    if all((merged.name, field.name) in schema.subgraphs[g].key_fields for g in graphs):
        return
    resolving, not_shareable = _resolving_graphs(schema, merged, field)
    through: dict[str, str] = {}  # graph -> the @interfaceObject field it resolves this with
    if merged.kind == Kind.OBJECT:
        for graph, interface, declared in _interface_object_fields(schema, merged, field.name):
            if graph in resolving:
                continue
            resolving.append(graph)
            through[graph] = f"{interface}.{field.name}"
            if (
                not declared.shareable
                and (interface, field.name) not in schema.subgraphs[graph].key_fields
            ):
                not_shareable.append(graph)
    if merged.kind == Kind.INTERFACE:  # only the interface objects resolve interface fields
        keep = set(merged.interface_object_graphs)
        resolving = [g for g in resolving if g in keep]
        not_shareable = [g for g in not_shareable if g in keep]
    if merged.name == "Subscription" and len(field.by_graph) > 1:
        log.add(
            "INVALID_FIELD_SHARING",
            f'Fields on root level subscription object cannot be shared: "{coordinate}" is in '
            f"{_names(schema, graphs)}.",
            subgraphs=[schema.name_of(g) for g in graphs],
            coordinate=coordinate,
            hint="keep each subscription field in one subgraph.",
        )
        return
    if not_shareable and len(resolving) > 1:
        where = (
            "all of them"
            if set(not_shareable) == set(resolving)
            else f"subgraph{'s' if len(not_shareable) > 1 else ''} {_names(schema, not_shareable)}"
        )
        log.add(
            "INVALID_FIELD_SHARING",
            f'Non-shareable field "{coordinate}" is resolved from multiple subgraphs: it is '
            f"resolved from subgraphs {_names(schema, resolving)}"
            + "".join(
                f' ({schema.quoted([g])} through @interfaceObject field "{f}")'
                for g, f in through.items()
            )
            + f" and defined as non-shareable in {where}.",
            subgraphs=[schema.name_of(g) for g in resolving],
            coordinate=coordinate,
            hint=f'mark "{coordinate}" @shareable in every subgraph that resolves it (and make '
            "sure they all return the same data), or keep it in one subgraph and mark it "
            "@external elsewhere, or move it with @override.",
        )


def _interface_object_fields(
    schema: MergedSchema, merged: MergedType, name: str
) -> list[tuple[str, str, Field]]:
    """(graph, interface, field) of each @interfaceObject that resolves this field of one of
    the type's interfaces (and so of the type itself) without the type knowing it."""
    out = []
    for interface in merged.interfaces:
        interface_type = schema.types.get(interface)
        if interface_type is None or name not in interface_type.fields:
            continue
        for graph in interface_type.interface_object_graphs:
            declared = interface_type.fields[name].by_graph.get(graph)
            if declared is not None and not declared.external and graph not in merged.by_graph:
                out.append((graph, interface, declared))
    return out


def _check_external_on_base(
    schema: MergedSchema, merged: MergedType, field: MergedField, log: ErrorLog
) -> None:
    def only_external(graph: str) -> bool:
        subgraph = schema.subgraphs[graph]
        declared = field.by_graph[graph]
        if (merged.name, field.name) in subgraph.key_fields:
            return declared.external and not merged.by_graph[graph].extended
        if subgraph.is_fed1:
            return declared.external and (merged.name, field.name) in subgraph.used_fields
        return declared.external

    if not all(only_external(g) for g in field.by_graph):
        return
    for interface in merged.interfaces:
        interface_type = schema.types.get(interface)
        if interface_type is None:
            continue
        interface_field = interface_type.fields.get(field.name)
        if interface_field is None:
            continue
        for graph in interface_type.interface_object_graphs:
            declared = interface_field.by_graph.get(graph)
            if declared is not None and not declared.external:
                return
    coordinate = f"{merged.name}.{field.name}"
    graphs = list(field.by_graph)
    log.add(
        "EXTERNAL_MISSING_ON_BASE",
        f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed '
        f"({_names(schema, graphs)}).",
        subgraphs=[schema.name_of(g) for g in graphs],
        coordinate=coordinate,
        hint=f'define "{coordinate}" without @external in the subgraph that resolves it, or '
        "remove it where it is external.",
    )


def _check_override_chain(
    schema: MergedSchema, merged: MergedType, field: MergedField, log: ErrorLog
) -> None:
    coordinate = f"{merged.name}.{field.name}"
    for graph, declared in field.by_graph.items():
        if declared.override is None:
            continue
        source = schema.graph_named(declared.override)
        if source is None or source not in field.by_graph:
            continue
        if field.by_graph[source].override is not None:
            log.add(
                "OVERRIDE_SOURCE_HAS_OVERRIDE",
                f'Field "{coordinate}" on subgraph "{schema.name_of(graph)}" is also marked '
                f'with directive @override in subgraph "{declared.override}". Only one @override '
                "directive is allowed per field.",
                subgraphs=[schema.name_of(graph), declared.override],
                coordinate=coordinate,
                hint="let one subgraph take the field over, and remove @override in the other.",
            )


def _check_interface_object(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
    real = [g for g, t in merged.by_graph.items() if not t.interface_object]
    if real:
        return
    graphs = merged.interface_object_graphs
    log.add(
        "INTERFACE_OBJECT_USAGE_ERROR",
        f'Type "{merged.name}" is declared with @interfaceObject in {_names(schema, graphs)} '
        "but is not defined as an interface in any subgraph.",
        subgraphs=[schema.name_of(g) for g in graphs],
        coordinate=merged.name,
        hint=f'define "interface {merged.name}" with the same @key in the subgraph that owns '
        "its implementations.",
    )


def _check_interface_fields(schema: MergedSchema, merged: MergedType, log: ErrorLog) -> None:
    for interface in merged.interfaces:
        interface_type = schema.types.get(interface)
        if interface_type is None or interface_type.kind != Kind.INTERFACE:
            continue
        for name, interface_field in interface_type.fields.items():
            if name in merged.fields:
                continue
            graphs = [g for g, t in merged.by_graph.items() if interface in t.interfaces]
            coordinate = f"{interface}.{name}"
            log.add(
                "INTERFACE_FIELD_NO_IMPLEM",
                f'Interface field "{coordinate}" is declared in '
                f"{_names(schema, list(interface_field.by_graph))} but type "
                f'"{merged.name}", which implements "{interface}" in {_names(schema, graphs)}, '
                f'does not have field "{name}".',
                subgraphs=[schema.name_of(g) for g in graphs],
                coordinate=f"{merged.name}.{name}",
                hint=f'add "{name}" to "{merged.name}" in a subgraph that resolves it.',
            )


def _check_interface_key_implementations(
    schema: MergedSchema, merged: MergedType, log: ErrorLog
) -> None:
    """A subgraph that resolves an interface by its key must know its implementations, or it
    could not say which type an entity of the interface is. Like the reference library, this
    is enforced when some such subgraph knows none (and no @interfaceObject stands in)."""
    if merged.interface_object_graphs:
        return
    implementations = schema.implementations(merged.name)
    keyed: dict[str, list[str]] = {}  # graph -> implementations it lacks
    for graph, type_def in merged.by_graph.items():
        subgraph = schema.subgraphs[graph]
        if type_def.keys and subgraph.version >= (2, 3):
            keyed[graph] = [
                t
                for t in implementations
                if merged.name not in getattr(subgraph.types.get(t), "interfaces", ())
            ]
    if all(len(missing) < len(implementations) for missing in keyed.values()):
        return
    for graph, missing in keyed.items():
        if not missing:
            continue
        subgraph = schema.subgraphs[graph]
        resolvable = merged.by_graph[graph].keys
        name = subgraph.name
        log.add(
            "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
            f'Interface type "{merged.name}" has a resolvable key (@key(fields: '
            f'"{resolvable[0].fields}")) in subgraph "{name}" but that subgraph is missing some '
            f'of the supergraph implementation types of "{merged.name}". Subgraph "{name}" '
            f"should define type{'s' if len(missing) > 1 else ''} "
            + ", ".join(f'"{t}"' for t in missing)
            + f' (and have {"them" if len(missing) > 1 else "it"} implement "{merged.name}").',
            subgraphs=[name],
            coordinate=merged.name,
            hint=f'add the missing types (with their @key) to "{name}", or make its key on '
            f'"{merged.name}" resolvable: false.',
        )
