"""Supergraph SDL -> API schema plus the federation metadata the planner reads.

Reads the `join` spec (v0.3 and later) as composition libraries write it. The planner only ever
asks this module questions ("which graphs resolve Citizen.tickets?", "which keys does Ticket have
in ticketing?"); it never looks at directives itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    SelectionSetNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_ast,
)
from graphql.execution.values import get_argument_values

from gateway.audit.declarations import PersonalFields, read_personal_data
from gateway.errors import SupergraphError
from gateway.ownership.subjects import DataSubject, read_data_subjects
from gateway.schema.api_schema import api_document
from gateway.schema.link_names import LinkNames, directives, link_names


@dataclass(frozen=True, slots=True)
class Graph:
    """One subgraph: `enum_value` is how join directives name it, `name` how people do."""

    enum_value: str
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Key:
    fields: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass(slots=True)
class TypeInGraph:
    keys: list[Key] = field(default_factory=list)
    is_interface_object: bool = False
    extension: bool = False


@dataclass(frozen=True, slots=True)
class AccessRule:
    """What reading a field or type takes (@authenticated, @requiresScopes, @policy).

    `scopes` and `policies` are OR-of-AND: the caller qualifies with every item of any one set.
    """

    authenticated: bool = False
    scopes: tuple[frozenset[str], ...] = ()
    policies: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """An argument the gateway passes from a context (@fromContext): the value `selection`
    picks from the nearest ancestor in the response whose type sets `context` (Supergraph.
    contexts)."""

    name: str
    type: str
    context: str
    selection: SelectionSetNode
    selection_text: str


@dataclass(frozen=True, slots=True)
class FieldInGraph:
    requires: SelectionSetNode | None = None
    provides: SelectionSetNode | None = None
    external: bool = False
    used_overridden: bool = False
    override: str | None = None
    override_label: str | None = None
    type: str | None = None
    context_arguments: tuple[ContextArgument, ...] = ()


@dataclass(slots=True)
class Supergraph:
    """Everything the planner and executor need, read once per supergraph."""

    sdl: str
    schema_hash: str
    schema: GraphQLSchema  # the whole supergraph, for internal selections (keys, requires)
    api_schema: GraphQLSchema
    api_sdl: str
    graphs: dict[str, Graph]
    # type name -> graph enum value -> how the graph knows the type
    type_graphs: dict[str, dict[str, TypeInGraph]]
    # (type, field) -> graph -> how the graph declares the field (only for fields with @join__field)
    field_graphs: dict[tuple[str, str], dict[str, FieldInGraph]]
    # (type, field) -> graphs that can resolve it (those that take @fromContext arguments only by
    # an entity call that passes them: FieldInGraph.context_arguments)
    resolvers: dict[tuple[str, str], frozenset[str]]
    # abstract type -> graph -> concrete types the graph may return for it
    possible_in_graph: dict[str, dict[str, frozenset[str]]]
    # interface -> graphs that declare it as an @interfaceObject; type -> its interfaces
    interface_objects: dict[str, frozenset[str]] = field(default_factory=dict)
    interfaces_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # access rules from @authenticated / @requiresScopes / @policy, on fields and on types
    field_access: dict[tuple[str, str], AccessRule] = field(default_factory=dict)
    type_access: dict[str, AccessRule] = field(default_factory=dict)
    # progressive @override: (type, field) -> (label, graphs while the label is on)
    progressive: dict[tuple[str, str], tuple[str, frozenset[str]]] = field(default_factory=dict)
    # object type -> whose data its objects are (`@dataSubject`, gateway/ownership/subjects.py)
    data_subjects: dict[str, DataSubject] = field(default_factory=dict)
    # (object type, field) -> personal-data category (`@personalData`, gateway/audit)
    personal_fields: PersonalFields = field(default_factory=dict)
    # type -> the contexts (@context) it sets, by their supergraph names ("shop__userContext");
    # interfaces and unions set theirs for every implementation / member
    contexts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # composed directive (@composeDirective), "cost" or "listSize" -> schema coordinate ->
    # arguments of each application
    composed_applications: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def applied_directives(self, name: str) -> Mapping[str, list[dict[str, Any]]]:
        """Where a composed directive (@composeDirective), @cost or @listSize is applied:
        schema coordinate ("Citizen", "Citizen.name", "Query.citizen(insz:)", "Input.field",
        "Enum.VALUE") -> the arguments of each application there, coerced by the directive's
        definition (defaults filled in). `name`: a composed directive's name in the supergraph,
        or "cost" / "listSize" however the supergraph renames them; with or without "@"; empty
        when nothing applies it. Shared: do not modify."""
        return self.composed_applications.get(name.removeprefix("@"), {})

    @property
    def override_labels(self) -> frozenset[str]:
        return frozenset(label for label, _ in self.progressive.values())

    def resolver_graphs(
        self, type_name: str, field_name: str, active_labels: frozenset[str] = frozenset()
    ) -> frozenset[str]:
        """Graphs that resolve a field, given which progressive-override labels are on."""
        if active_labels:
            entry = self.progressive.get((type_name, field_name))
            if entry is not None and entry[0] in active_labels:
                return entry[1]
        return self.resolvers.get((type_name, field_name), frozenset())

    def graph_by_name(self, name: str) -> Graph:
        for graph in self.graphs.values():
            if graph.name == name:
                return graph
        raise KeyError(name)

    def can_resolve(
        self,
        type_name: str,
        field_name: str,
        graph: str,
        active_labels: frozenset[str] = frozenset(),
    ) -> bool:
        return graph in self.resolver_graphs(type_name, field_name, active_labels)

    def field_in_graph(self, type_name: str, field_name: str, graph: str) -> FieldInGraph | None:
        return self.field_graphs.get((type_name, field_name), {}).get(graph)

    def resolvable_keys(self, type_name: str, graph: str) -> list[Key]:
        info = self.type_graphs.get(type_name, {}).get(graph)
        return [k for k in info.keys if k.resolvable] if info else []

    def all_keys(self, type_name: str, graph: str) -> list[Key]:
        info = self.type_graphs.get(type_name, {}).get(graph)
        return list(info.keys) if info else []

    def entity_type(self, type_name: str, graph: str) -> str:
        """The type under which `graph` resolves entities of `type_name`: the type itself, or an
        interface it implements that the graph declares as an @interfaceObject."""
        info = self.type_graphs.get(type_name, {}).get(graph)
        if info is not None and any(k.resolvable for k in info.keys):
            return type_name
        # a `resolvable: false` stub of the type does not hide an interface object
        for interface in self.interfaces_of.get(type_name, ()):
            if graph in self.interface_objects.get(interface, frozenset()):
                return interface
        return type_name

    def graphs_of_type(self, type_name: str) -> Iterable[str]:
        return self.type_graphs.get(type_name, {}).keys()

    def possible_types_in_graph(self, abstract: str, graph: str) -> frozenset[str]:
        return self.possible_in_graph.get(abstract, {}).get(graph, frozenset())


def parse_field_set(text: str) -> SelectionSetNode:
    """A `join__FieldSet` string ("id organisation { id }") as a selection set."""
    try:
        op = parse("{" + text + "}", no_location=True).definitions[0]
    except Exception as exc:
        raise SupergraphError(f"invalid field set {text!r}: {exc}") from exc
    return op.selection_set  # type: ignore[attr-defined, no-any-return]


def load_supergraph(sdl: str) -> Supergraph:
    try:
        doc = parse(sdl)
    except Exception as exc:
        raise SupergraphError(f"supergraph SDL does not parse: {exc}") from exc
    names = link_names(doc)
    graphs = _read_graphs(doc, names)
    type_graphs: dict[str, dict[str, TypeInGraph]] = {}
    field_graphs: dict[tuple[str, str], dict[str, FieldInGraph]] = {}
    implements: dict[str, dict[str, set[str]]] = {}  # interface -> graph -> implementers
    union_members: dict[str, dict[str, set[str]]] = {}
    type_defs: dict[str, TypeDefinitionNode] = {}

    for definition in doc.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        type_name = definition.name.value
        type_defs[type_name] = definition
        per_graph = type_graphs.setdefault(type_name, {})
        for args in directives(definition, names.join_directive("type")):
            info = per_graph.setdefault(str(args["graph"]), TypeInGraph())
            if args.get("key"):
                info.keys.append(
                    Key(
                        str(args["key"]),
                        parse_field_set(str(args["key"])),
                        bool(args.get("resolvable", True)),
                    )
                )
            info.is_interface_object |= bool(args.get("isInterfaceObject", False))
            info.extension |= bool(args.get("extension", False))
        for args in directives(definition, names.join_directive("implements")):
            implements.setdefault(str(args["interface"]), {}).setdefault(
                str(args["graph"]), set()
            ).add(type_name)
        if isinstance(definition, UnionTypeDefinitionNode):
            for args in directives(definition, names.join_directive("unionMember")):
                union_members.setdefault(type_name, {}).setdefault(str(args["graph"]), set()).add(
                    str(args["member"])
                )
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for fdef in definition.fields or ():
                entries = directives(fdef, names.join_directive("field"))
                if not entries:
                    continue
                per_field = field_graphs.setdefault((type_name, fdef.name.value), {})
                for args in entries:
                    if args.get("graph") is None:
                        continue
                    per_field[str(args["graph"])] = FieldInGraph(
                        requires=parse_field_set(str(args["requires"]))
                        if args.get("requires")
                        else None,
                        provides=parse_field_set(str(args["provides"]))
                        if args.get("provides")
                        else None,
                        external=bool(args.get("external", False)),
                        used_overridden=bool(args.get("usedOverridden", False)),
                        override=str(args["override"]) if args.get("override") else None,
                        override_label=str(args["overrideLabel"])
                        if args.get("overrideLabel")
                        else None,
                        type=str(args["type"]) if args.get("type") else None,
                        context_arguments=_context_arguments(args.get("contextArguments")),
                    )

    resolvers, progressive = _resolvers(type_defs, type_graphs, field_graphs)
    interface_objects = {
        name: frozenset(g for g, info in graphs.items() if info.is_interface_object)
        for name, graphs in type_graphs.items()
        if any(info.is_interface_object for info in graphs.values())
    }
    interfaces_of = {
        name: tuple(i.name.value for i in d.interfaces or ())
        for name, d in type_defs.items()
        if isinstance(d, ObjectTypeDefinitionNode)
    }
    _add_interface_object_fields(
        resolvers, type_defs, type_graphs, interface_objects, interfaces_of
    )
    field_access, type_access = _access_rules(type_defs, names)
    possible = _possible_in_graph(type_defs, type_graphs, implements, union_members)
    api_doc = api_document(doc, names)
    try:
        schema = build_ast_schema(doc, assume_valid_sdl=True)
        api_schema = build_ast_schema(api_doc)
    except Exception as exc:
        raise SupergraphError(
            f"the API schema derived from the supergraph is invalid: {exc}"
        ) from exc
    contexts = {
        name: tuple(str(a["name"]) for a in directives(d, names.context))
        for name, d in type_defs.items()
        if directives(d, names.context)
    }
    composed = _composed_applications(doc, schema, {**{n: n for n in names.composed}, **names.cost})
    return Supergraph(
        sdl=sdl,
        schema_hash=hashlib.sha256(sdl.encode()).hexdigest(),
        schema=schema,
        api_schema=api_schema,
        api_sdl=print_ast(api_doc),
        graphs=graphs,
        type_graphs=type_graphs,
        field_graphs=field_graphs,
        resolvers=resolvers,
        possible_in_graph=possible,
        progressive=progressive,
        interface_objects=interface_objects,
        interfaces_of=interfaces_of,
        field_access=field_access,
        type_access=type_access,
        composed_applications=composed,
        data_subjects=read_data_subjects(doc, api_schema, composed),
        personal_fields=read_personal_data(doc, api_schema, composed),
        contexts=contexts,
    )


def _context_arguments(value: object) -> tuple[ContextArgument, ...]:
    out = []
    for item in value if isinstance(value, list) else ():
        if not isinstance(item, dict):
            raise SupergraphError(f"contextArguments: {item!r} is not an object")
        text = str(item.get("selection") or "")
        source = text.strip()  # " { locale }", or " ... on A { x } ... on B { y }"
        try:
            source = source if source.startswith("{") else "{" + source + "}"
            selection = parse(source, no_location=True).definitions[0]
        except Exception as exc:
            raise SupergraphError(f"invalid context selection {text!r}: {exc}") from exc
        out.append(
            ContextArgument(
                str(item.get("name")),
                str(item.get("type")),
                str(item.get("context")),
                selection.selection_set,  # type: ignore[attr-defined]
                text,
            )
        )
    return tuple(out)


def _coordinates(doc: DocumentNode) -> Iterator[tuple[str, object]]:
    """(schema coordinate, node) of every type, field, argument, input field and enum value."""
    for definition in doc.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        type_name = definition.name.value
        yield type_name, definition
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for fdef in definition.fields or ():
                yield f"{type_name}.{fdef.name.value}", fdef
                for arg in fdef.arguments or ():
                    yield f"{type_name}.{fdef.name.value}({arg.name.value}:)", arg
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            for input_field in definition.fields or ():
                yield f"{type_name}.{input_field.name.value}", input_field
        elif isinstance(definition, EnumTypeDefinitionNode):
            for value in definition.values or ():
                yield f"{type_name}.{value.name.value}", value


def _composed_applications(
    doc: DocumentNode, schema: GraphQLSchema, names: dict[str, str]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """`names`: the name a directive is known by (its spec's name for @cost / @listSize) ->
    its name in this supergraph."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    definitions = {
        local: (known, d)
        for known, local in names.items()
        if (d := schema.get_directive(local)) is not None
    }
    if not definitions:
        return out
    for coordinate, node in _coordinates(doc):
        for applied in getattr(node, "directives", None) or ():
            found = definitions.get(applied.name.value)
            if found is None:
                continue
            known, definition = found
            try:
                args = get_argument_values(definition, applied)
            except GraphQLError as exc:
                raise SupergraphError(f"@{definition.name} on {coordinate}: {exc.message}") from exc
            out.setdefault(known, {}).setdefault(coordinate, []).append(args)
    return out


def _read_graphs(doc: DocumentNode, names: LinkNames) -> dict[str, Graph]:
    graph_enum = f"{names.join}__Graph"
    for definition in doc.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == graph_enum:
            graphs = {}
            for value in definition.values or ():
                for args in directives(value, names.join_directive("graph")):
                    graphs[value.name.value] = Graph(
                        value.name.value, str(args["name"]), str(args.get("url") or "")
                    )
            return graphs
    raise SupergraphError(f"not a supergraph: enum {graph_enum} is missing")


def _resolvers(
    type_defs: dict[str, TypeDefinitionNode],
    type_graphs: dict[str, dict[str, TypeInGraph]],
    field_graphs: dict[tuple[str, str], dict[str, FieldInGraph]],
) -> tuple[
    dict[tuple[str, str], frozenset[str]], dict[tuple[str, str], tuple[str, frozenset[str]]]
]:
    """Which graphs can resolve each field (not external, not overridden away).

    A progressive override (`overrideLabel`) leaves the field with its old graph by default; while
    the label is on, the overriding graph takes it instead (the second map).
    """
    out: dict[tuple[str, str], frozenset[str]] = {}
    progressive: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
    for type_name, definition in type_defs.items():
        if not isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            continue
        type_in = frozenset(type_graphs.get(type_name, {}))
        for fdef in definition.fields or ():
            coordinate = (type_name, fdef.name.value)
            declared = field_graphs.get(coordinate)
            if declared is None:
                out[coordinate] = type_in
                continue
            if not declared:  # a bare @join__field: added by an @interfaceObject (see below)
                out[coordinate] = frozenset()
                continue
            usable = {g for g, i in declared.items() if not i.external and not i.used_overridden}
            labelled = {g: i for g, i in declared.items() if i.override_label}
            if not labelled:
                out[coordinate] = frozenset(usable)
                continue
            label = next(iter(labelled.values())).override_label
            assert label is not None
            taking = {g for g, i in labelled.items() if i.override}
            giving = {g for g, i in labelled.items() if not i.override}
            out[coordinate] = frozenset(usable - taking)
            progressive[coordinate] = (label, frozenset(usable - giving))
    return out, progressive


def _access_rule(node: object, names: LinkNames) -> AccessRule | None:
    authenticated = bool(directives(node, names.authenticated))
    scopes = tuple(
        frozenset(str(s) for s in group)
        for args in directives(node, names.requires_scopes)
        for group in args.get("scopes") or ()  # type: ignore[attr-defined]
    )
    policies = tuple(
        frozenset(str(p) for p in group)
        for args in directives(node, names.policy)
        for group in args.get("policies") or ()  # type: ignore[attr-defined]
    )
    if not (authenticated or scopes or policies):
        return None
    return AccessRule(authenticated, scopes, policies)


def _access_rules(
    type_defs: dict[str, TypeDefinitionNode], names: LinkNames
) -> tuple[dict[tuple[str, str], AccessRule], dict[str, AccessRule]]:
    fields: dict[tuple[str, str], AccessRule] = {}
    types: dict[str, AccessRule] = {}
    for type_name, definition in type_defs.items():
        rule = _access_rule(definition, names)
        if rule is not None:
            types[type_name] = rule
        for fdef in getattr(definition, "fields", None) or ():
            if isinstance(fdef, FieldDefinitionNode):
                rule = _access_rule(fdef, names)
                if rule is not None:
                    fields[(type_name, fdef.name.value)] = rule
    return fields, types


def _add_interface_object_fields(
    resolvers: dict[tuple[str, str], frozenset[str]],
    type_defs: dict[str, TypeDefinitionNode],
    type_graphs: dict[str, dict[str, TypeInGraph]],
    interface_objects: dict[str, frozenset[str]],
    interfaces_of: dict[str, tuple[str, ...]],
) -> None:
    """A field an @interfaceObject adds to an interface is resolved, for every implementation,
    by the graphs that declare the interface object (and not the implementation itself: where
    such a graph has its own, key-only stub of the type, the stub lacks the field)."""
    for type_name, interfaces in interfaces_of.items():
        own = type_graphs.get(type_name, {})
        for interface in interfaces:
            for graph in interface_objects.get(interface, ()):
                if graph in own:
                    continue
                definition = type_defs[interface]
                for fdef in getattr(definition, "fields", None) or ():
                    coordinate = (type_name, fdef.name.value)
                    if graph in resolvers.get((interface, fdef.name.value), frozenset()):
                        resolvers[coordinate] = resolvers.get(coordinate, frozenset()) | {graph}


def _possible_in_graph(
    type_defs: dict[str, TypeDefinitionNode],
    type_graphs: dict[str, dict[str, TypeInGraph]],
    implements: dict[str, dict[str, set[str]]],
    union_members: dict[str, dict[str, set[str]]],
) -> dict[str, dict[str, frozenset[str]]]:
    out: dict[str, dict[str, frozenset[str]]] = {}
    for name, definition in type_defs.items():
        if isinstance(definition, InterfaceTypeDefinitionNode):
            out[name] = {g: frozenset(types) for g, types in implements.get(name, {}).items()}
        elif isinstance(definition, UnionTypeDefinitionNode):
            if name in union_members:
                out[name] = {g: frozenset(t) for g, t in union_members[name].items()}
            else:  # no per-graph membership recorded: every graph that knows the union has all
                members = frozenset(t.name.value for t in definition.types or ())
                out[name] = {g: members for g in type_graphs.get(name, {})}
    return out


def is_url_source(source: str) -> bool:
    """Whether a supergraph (or subgraph SDL) source is an http(s) URL rather than a file."""
    return source.startswith(("http://", "https://"))


def read_supergraph_source(source: str, timeout: float = 10.0) -> str:
    """The SDL from a file path or an http(s) URL."""
    if is_url_source(source):
        import httpx  # here: the registry's composition worker loads supergraphs, never URLs

        try:
            response = httpx.get(source, timeout=timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SupergraphError(f"cannot fetch supergraph from {source}: {exc}") from exc
        return response.text
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise SupergraphError(f"cannot read supergraph file {source}: {exc}") from exc
