"""What a supergraph means, independent of how it is printed: its API schema (sorted and
printed) and its join metadata normalized per type and field, with graphs by name. Two
supergraphs are equivalent when these are equal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    lexicographic_sort_schema,
    parse,
    print_ast,
    print_schema,
)

from gateway.composition.field_sets import normalize_field_set
from gateway.schema.link_names import directives, link_names
from gateway.schema.supergraph import load_supergraph

_KINDS = {
    ObjectTypeDefinitionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    UnionTypeDefinitionNode: "union",
    EnumTypeDefinitionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
}


@dataclass(frozen=True)
class SupergraphFacts:
    api_schema: str
    graphs: dict[str, str]  # name -> url
    types: dict[str, dict[str, Any]]
    access: dict[str, Any]
    planner: dict[str, Any]
    directives: dict[str, Any]  # executable directives: name -> (args, repeatable, locations)
    # composed directives (@composeDirective), @cost and @listSize: the supergraph's @links to
    # composed directives' specs, and where each is applied with which arguments (inaccessible
    # elements included)
    composed: dict[str, Any]


def _fs(value: object) -> str | None:
    return normalize_field_set(str(value)) if value else None


def facts(sdl: str) -> SupergraphFacts:
    supergraph = load_supergraph(sdl)
    doc = parse(sdl)
    names = link_names(doc)
    graph_name = {g.enum_value: g.name for g in supergraph.graphs.values()}
    prefixes = tuple(f"{spec}__" for spec in names.link_specs | {"link", "join", names.join})
    types: dict[str, dict[str, Any]] = {}
    for definition in doc.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        name = definition.name.value
        if name.startswith(prefixes):
            continue
        types[name] = _type_facts(definition, names, graph_name)
    spec_directives = {"link", "inaccessible", "tag", "authenticated", "requiresScopes", "policy"}
    spec_directives |= names.imported
    directive_facts = {
        d.name.value: (
            sorted(
                (
                    a.name.value,
                    print_ast(a.type),
                    print_ast(a.default_value) if a.default_value else None,
                )
                for a in d.arguments or ()
            ),
            d.repeatable,
            sorted(loc.value for loc in d.locations),
        )
        for d in doc.definitions
        if isinstance(d, DirectiveDefinitionNode)
        and not d.name.value.startswith(prefixes)
        and d.name.value
        not in spec_directives | names.link_specs | {*names.cost, *names.cost.values()}
    }
    spec_links = sorted(
        str(a.get("url"))
        for d in doc.definitions
        if isinstance(d, SchemaDefinitionNode)
        for a in directives(d, "link")
        if not str(a.get("url")).startswith("https://specs.apollo.dev/")
    )
    return SupergraphFacts(
        directives=directive_facts,
        composed={
            "links": spec_links,
            "applied": {
                n: dict(supergraph.applied_directives(n))
                for n in sorted(names.composed | {"cost", "listSize"})
            },
        },
        api_schema=print_schema(lexicographic_sort_schema(supergraph.api_schema)),
        graphs={g.name: g.url for g in supergraph.graphs.values()},
        types=types,
        access={
            "fields": {
                f"{t}.{f}": _rule(r) for (t, f), r in sorted(supergraph.field_access.items())
            },
            "types": {t: _rule(r) for t, r in sorted(supergraph.type_access.items())},
        },
        planner={
            "resolvers": {
                f"{t}.{f}": sorted(graph_name[g] for g in gs)
                for (t, f), gs in sorted(supergraph.resolvers.items())
            },
            "progressive": {
                f"{t}.{f}": (label, sorted(graph_name[g] for g in gs))
                for (t, f), (label, gs) in sorted(supergraph.progressive.items())
            },
            "possible_in_graph": {
                t: {graph_name[g]: sorted(ts) for g, ts in sorted(per.items())}
                for t, per in sorted(supergraph.possible_in_graph.items())
            },
        },
    )


def _rule(rule: Any) -> tuple[bool, list[list[str]], list[list[str]]]:
    return (
        rule.authenticated,
        sorted(sorted(g) for g in rule.scopes),
        sorted(sorted(g) for g in rule.policies),
    )


def _type_facts(
    definition: TypeDefinitionNode, names: Any, graph_name: dict[str, str]
) -> dict[str, Any]:
    join = names.join_directive
    join_types = sorted(
        (
            graph_name[str(a["graph"])],
            _fs(a.get("key")),
            bool(a.get("extension", False)),
            bool(a.get("resolvable", True)),
            bool(a.get("isInterfaceObject", False)),
        )
        for a in directives(definition, join("type"))
    )
    out: dict[str, Any] = {
        "kind": _KINDS[type(definition)],
        "join_type": join_types,
        "inaccessible": bool(directives(definition, names.inaccessible)),
        "implements": sorted(
            (graph_name[str(a["graph"])], str(a["interface"]))
            for a in directives(definition, join("implements"))
        ),
        "union_members": sorted(
            (graph_name[str(a["graph"])], str(a["member"]))
            for a in directives(definition, join("unionMember"))
        ),
        "contexts": sorted(str(a["name"]) for a in directives(definition, names.context)),
        "join_directives": _join_directives(definition, names, graph_name),
    }
    type_graphs = sorted({t[0] for t in join_types})
    if isinstance(definition, EnumTypeDefinitionNode):
        out["values"] = {
            v.name.value: (
                sorted(graph_name[str(a["graph"])] for a in directives(v, join("enumValue"))),
                bool(directives(v, names.inaccessible)),
            )
            for v in definition.values or ()
        }
    fields = getattr(definition, "fields", None) or ()
    out["fields"] = {f.name.value: _field_facts(f, names, graph_name, type_graphs) for f in fields}
    return out


def _field_facts(
    node: FieldDefinitionNode | InputValueDefinitionNode,
    names: Any,
    graph_name: dict[str, str],
    type_graphs: list[str],
) -> dict[str, Any]:
    field_type = print_ast(node.type)
    entries = directives(node, names.join_directive("field"))
    per_graph: dict[str, Any] = {}
    if not entries:
        for graph in type_graphs:
            per_graph[graph] = (None, None, False, None, None, False, [], field_type)
    for a in entries:
        graph = graph_name[str(a["graph"])] if a.get("graph") else "<interfaceObject>"
        per_graph[graph] = (
            _fs(a.get("requires")),
            _fs(a.get("provides")),
            bool(a.get("external", False)),
            a.get("override") or None,
            a.get("overrideLabel") or None,
            bool(a.get("usedOverridden", False)),
            sorted(
                (
                    str(c["context"]),
                    str(c["name"]),
                    str(c["type"]),
                    " ".join(str(c["selection"]).split()),
                )
                for c in a.get("contextArguments") or ()  # type: ignore[attr-defined]
            ),
            a.get("type") or field_type,
        )
    return {
        "join_directives": _join_directives(node, names, graph_name),
        "type": field_type,
        # whether the supergraph records per-subgraph types here at all: the reference library
        # leaves them out on root fields and on interface fields every subgraph declares
        "types_recorded": any(a.get("type") for a in entries),
        "graphs": per_graph,
        "inaccessible": bool(directives(node, names.inaccessible)),
        "args": {
            a.name.value: (
                print_ast(a.type),
                print_ast(a.default_value) if a.default_value else None,
                bool(directives(a, names.inaccessible)),
            )
            for a in getattr(node, "arguments", None) or ()
        },
    }


def _join_directives(node: Any, names: Any, graph_name: dict[str, str]) -> list[Any]:
    """Directives kept per subgraph (@join__directive, e.g. @cacheTag): name, graphs, args."""
    return sorted(
        (
            str(a["name"]),
            sorted(graph_name[str(g)] for g in a.get("graphs") or ()),
            sorted((str(k), str(v)) for k, v in (a.get("args") or {}).items()),
        )
        for a in directives(node, names.join_directive("directive"))
    )


_FIELD_PARTS = (
    "requires",
    "provides",
    "external",
    "override",
    "overrideLabel",
    "usedOverridden",
    "contextArguments",
    "type",
)


def differences(ours: SupergraphFacts, reference: SupergraphFacts) -> list[str]:
    """What differs, one readable line each (empty when the supergraphs are equivalent)."""
    out: list[str] = []
    if ours.api_schema != reference.api_schema:
        import difflib

        diff = difflib.unified_diff(
            reference.api_schema.splitlines(),
            ours.api_schema.splitlines(),
            "reference API schema",
            "our API schema",
            lineterm="",
            n=1,
        )
        out.append("API schema differs:\n" + "\n".join(diff))
    if ours.directives != reference.directives:
        out.append(f"directives: ours {ours.directives} reference {reference.directives}")
    if ours.composed != reference.composed:
        out.append(f"composed directives: ours {ours.composed} reference {reference.composed}")
    if ours.graphs != reference.graphs:
        out.append(f"graphs: ours {ours.graphs} reference {reference.graphs}")
    for name in sorted(set(ours.types) | set(reference.types)):
        mine, theirs = ours.types.get(name), reference.types.get(name)
        if mine is None or theirs is None:
            out.append(f"type {name}: only in {'reference' if mine is None else 'ours'}")
            continue
        out.extend(_type_differences(name, mine, theirs))
    for part in ("access", "planner"):
        a, b = getattr(ours, part), getattr(reference, part)
        for section in sorted(set(a) | set(b)):
            sa, sb = a.get(section, {}), b.get(section, {})
            for key in sorted(set(sa) | set(sb)):
                if sa.get(key) != sb.get(key):
                    out.append(
                        f"{part}.{section} {key}: ours {sa.get(key)} reference {sb.get(key)}"
                    )
    return out


def _type_differences(name: str, mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    out = []
    parts = (
        "kind",
        "join_type",
        "inaccessible",
        "implements",
        "union_members",
        "values",
        "contexts",
    )
    for part in parts:
        if mine.get(part) != theirs.get(part):
            out.append(f"{name} {part}: ours {mine.get(part)} reference {theirs.get(part)}")
    for field in sorted(set(mine["fields"]) | set(theirs["fields"])):
        a, b = mine["fields"].get(field), theirs["fields"].get(field)
        if a is None or b is None:
            out.append(f"{name}.{field}: only in {'reference' if a is None else 'ours'}")
            continue
        for part in ("type", "inaccessible", "args", "join_directives"):
            if a[part] != b[part]:
                out.append(f"{name}.{field} {part}: ours {a[part]} reference {b[part]}")
        compare_types = a["types_recorded"] and b["types_recorded"]
        for graph in sorted(set(a["graphs"]) | set(b["graphs"])):
            ga, gb = a["graphs"].get(graph), b["graphs"].get(graph)
            if ga is not None and gb is not None and not compare_types:
                ga, gb = (*ga[:-1], None), (*gb[:-1], None)
            if ga == gb:
                continue
            if ga is None or gb is None:
                where = "reference" if ga is None else "ours"
                out.append(f"{name}.{field} @join__field({graph}): only in {where}")
                continue
            parts = [
                f"{p} ours {x!r} reference {y!r}"
                for p, x, y in zip(_FIELD_PARTS, ga, gb, strict=True)
                if x != y
            ]
            out.append(f"{name}.{field} @join__field({graph}): " + ", ".join(parts))
    return out
