"""The merged schema as supergraph SDL in the `join` form (join v0.3 / v0.4 with @link)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from graphql.language.block_string import print_block_string

from gateway.composition.composed_directives import ComposedDirective, spec_links
from gateway.composition.contexts import CONTEXT_DEFINITIONS, CONTEXT_LINK, qualified
from gateway.composition.demand_control import COST_DEFINITION, COST_LINK, LIST_SIZE_DEFINITION
from gateway.composition.executable_directives import ExecutableDirective
from gateway.composition.join_metadata import (
    DroppedField,
    JoinField,
    JoinType,
    input_field_join,
    join_fields,
    join_implements,
    join_types,
)
from gateway.composition.subgraph_model import Element, Kind
from gateway.composition.supergraph_model import (
    MergedField,
    MergedInputValue,
    MergedSchema,
    MergedType,
)

_JOIN_DEFINITIONS = '''directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean{label}{context}
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

scalar join__FieldSet
{v05}
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY
  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''  # noqa: E501

_ALL_LOCATIONS = (
    "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | "
    "ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
_AUTH_LOCATIONS = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
_SPECS = {
    "inaccessible": (
        '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
        f"directive @inaccessible on {_ALL_LOCATIONS}",
    ),
    "tag": (
        '@link(url: "https://specs.apollo.dev/tag/v0.3")',
        f"directive @tag(name: String!) repeatable on {_ALL_LOCATIONS} | SCHEMA",
    ),
    "policy": (
        '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
        "directive @policy(policies: [[policy__Policy!]!]!) on "
        f"{_AUTH_LOCATIONS}\n\nscalar policy__Policy",
    ),
    "requiresScopes": (
        '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on "
        f"{_AUTH_LOCATIONS}\n\nscalar requiresScopes__Scope",
    ),
    "authenticated": (
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        f"directive @authenticated on {_AUTH_LOCATIONS}",
    ),
    "cacheTag": ('@link(url: "https://specs.apollo.dev/cacheTag/v0.1", for: EXECUTION)', ""),
    "context": (CONTEXT_LINK, CONTEXT_DEFINITIONS),
    "cost": (f'@link(url: "{COST_LINK}")', COST_DEFINITION),
    "listSize": (f'@link(url: "{COST_LINK}", import: ["@listSize"])', LIST_SIZE_DEFINITION),
}


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _description(element: Element, indent: str) -> str:
    if element.description is None:
        return ""
    block = print_block_string(element.description)
    return "\n".join(indent + line if line else line for line in block.split("\n")) + "\n"


def _groups(groups: list[list[str]]) -> str:
    return "[" + ", ".join("[" + ", ".join(_string(s) for s in g) + "]" for g in groups) + "]"


def _element_directives(element: Element) -> list[str]:
    out = []
    if element.deprecated is not None:
        reason = element.deprecated
        out.append(
            "@deprecated"
            if reason == "No longer supported"
            else f"@deprecated(reason: {_string(reason)})"
        )
    if element.inaccessible:
        out.append("@inaccessible")
    out.extend(f"@tag(name: {_string(t)})" for t in element.tags)
    if element.access.authenticated:
        out.append("@authenticated")
    if element.access.scopes:
        out.append(f"@requiresScopes(scopes: {_groups(element.access.scopes)})")
    if element.access.policies:
        out.append(f"@policy(policies: {_groups(element.access.policies)})")
    if element.cost is not None:
        out.append(f"@cost(weight: {element.cost})")
    out.extend(a.printed() for a in element.applied)
    return out


def _cache_tags(by_graph: Mapping[str, Element]) -> list[str]:
    """@cacheTag (Federation 2.12) stays with the subgraphs that apply it: a @join__directive
    per format, naming them."""
    graphs: dict[str, list[str]] = {}
    for graph, element in by_graph.items():
        for tag in element.cache_tags:
            graphs.setdefault(tag, []).append(graph)
    return [
        f'@join__directive(graphs: [{", ".join(gs)}], name: "federation__cacheTag", '
        f"args: {{format: {_string(tag)}}})"
        for tag, gs in graphs.items()
    ]


def _join_type(entry: JoinType) -> str:
    args = [f"graph: {entry.graph}"]
    if entry.key is not None:
        args.append(f"key: {_string(entry.key)}")
        if entry.extension:
            args.append("extension: true")
        if not entry.resolvable:
            args.append("resolvable: false")
        if entry.interface_object:
            args.append("isInterfaceObject: true")
    return f"@join__type({', '.join(args)})"


def _join_field(entry: JoinField) -> str:
    if entry.graph is None:
        return "@join__field"
    args = [f"graph: {entry.graph}"]
    for name, value in (
        ("requires", entry.requires),
        ("provides", entry.provides),
        ("type", entry.type),
        ("override", entry.override),
        ("overrideLabel", entry.override_label),
    ):
        if value is not None:
            args.append(f"{name}: {_string(value)}")
    if entry.external:
        args.append("external: true")
    if entry.used_overridden:
        args.append("usedOverridden: true")
    if entry.context_arguments:
        items = ", ".join(
            f"{{context: {_string(c)}, name: {_string(n)}, type: {_string(t)}, "
            f"selection: {_string(s)}}}"
            for c, n, t, s in entry.context_arguments
        )
        args.append(f"contextArguments: [{items}]")
    return f"@join__field({', '.join(args)})"


def _input_value(value: MergedInputValue, indent: str) -> str:
    default = f" = {value.default}" if value.default is not None else ""
    directives = "".join(" " + d for d in _element_directives(value))
    return f"{_description(value, indent)}{indent}{value.name}: {value.type}{default}{directives}"


def _arguments(field: MergedField) -> str:
    if not field.args:
        return ""
    if not any(a.description for a in field.args.values()):
        return "(" + ", ".join(_input_value(a, "").strip() for a in field.args.values()) + ")"
    return "(\n" + "\n".join(_input_value(a, "    ") for a in field.args.values()) + "\n  )"


def _field(schema: MergedSchema, merged: MergedType, field: MergedField) -> str | None:
    try:
        joins = join_fields(schema, merged, field)
    except DroppedField:
        return None
    directives = [_join_field(j) for j in joins] + _element_directives(field)
    directives += _cache_tags(field.by_graph)
    if field.list_size is not None:
        directives.append(field.list_size.printed())
    tail = "".join(" " + d for d in directives)
    return f"{_description(field, '  ')}  {field.name}{_arguments(field)}: {field.type}{tail}"


def _header(keyword: str, merged: MergedType, directives: Iterable[str], extra: str = "") -> str:
    tail = "".join(" " + d for d in directives)
    return f"{_description(merged, '')}{keyword} {merged.name}{extra}{tail}"


def _type(schema: MergedSchema, merged: MergedType) -> str:
    type_joins = [_join_type(j) for j in join_types(schema, merged)]
    own = _element_directives(merged) + [
        f"@context(name: {_string(qualified(schema.subgraphs[g], c))})"
        for g, t in merged.by_graph.items()
        for c in t.contexts
    ]
    own += _cache_tags(merged.by_graph)
    if merged.kind in (Kind.OBJECT, Kind.INTERFACE):
        implements = [
            f"@join__implements(graph: {g}, interface: {_string(i)})"
            for g, i in join_implements(schema, merged)
        ]
        keyword = "type" if merged.kind == Kind.OBJECT else "interface"
        extra = f" implements {' & '.join(merged.interfaces)}" if merged.interfaces else ""
        fields = [f for f in (_field(schema, merged, f) for f in merged.fields.values()) if f]
        head = _header(keyword, merged, type_joins + implements + own, extra)
        return head + " {\n" + "\n".join(fields) + "\n}"
    if merged.kind == Kind.UNION:
        members = [
            f"@join__unionMember(graph: {g}, member: {_string(m)})"
            for m, graphs in merged.members.items()
            for g in graphs
        ]
        head = _header("union", merged, type_joins + members + own)
        return f"{head} = {' | '.join(merged.members)}"
    if merged.kind == Kind.ENUM:
        values = []
        for value in merged.values.values():
            joins = [f"@join__enumValue(graph: {g})" for g in value.by_graph]
            tail = "".join(" " + d for d in joins + _element_directives(value))
            values.append(f"{_description(value, '  ')}  {value.name}{tail}")
        return _header("enum", merged, type_joins + own) + " {\n" + "\n".join(values) + "\n}"
    if merged.kind == Kind.INPUT_OBJECT:
        lines: list[str] = []
        for name, input_field in merged.input_fields.items():
            join_text = "".join(" " + _join_field(j) for j in input_field_join(merged, name))
            lines.append(_input_value(input_field, "  ") + join_text)
        one_of = ["@oneOf"] if merged.one_of else []
        return (
            _header("input", merged, type_joins + one_of + own) + " {\n" + "\n".join(lines) + "\n}"
        )
    specified = (
        [f"@specifiedBy(url: {_string(merged.specified_by)})"] if merged.specified_by else []
    )
    return _header("scalar", merged, type_joins + specified + own)


def _directive_definition(directive: ExecutableDirective | ComposedDirective) -> str:
    args = ", ".join(
        f"{name}: {type_}" + (f" = {default}" if default is not None else "")
        for name, (type_, default) in directive.args.items()
    )
    description = ""
    if directive.description is not None:
        description = print_block_string(directive.description) + "\n"
    return (
        f"{description}directive @{directive.name}{f'({args})' if args else ''}"
        f"{' repeatable' if directive.repeatable else ''} on {' | '.join(directive.locations)}"
    )


def _used_specs(schema: MergedSchema) -> list[str]:
    used: set[str] = set()

    def visit(element: Element) -> None:
        if element.inaccessible:
            used.add("inaccessible")
        if element.tags:
            used.add("tag")
        if element.access.authenticated:
            used.add("authenticated")
        if element.access.scopes:
            used.add("requiresScopes")
        if element.access.policies:
            used.add("policy")
        if element.cost is not None:
            used.add("cost")

    for merged in schema.types.values():
        visit(merged)
        if any(t.contexts for t in merged.by_graph.values()):
            used.add("context")
        if any(t.cache_tags for t in merged.by_graph.values()) or any(
            f.cache_tags for m in merged.fields.values() for f in m.by_graph.values()
        ):
            used.add("cacheTag")
        for field in merged.fields.values():
            visit(field)
            if field.list_size is not None:
                used.update(("cost", "listSize"))
            for arg in field.args.values():
                visit(arg)
        for value in [*merged.input_fields.values(), *merged.values.values()]:
            visit(value)
    return [spec for spec in _SPECS if spec in used]


# join v0.5 (Federation 2.8+): contextual arguments and directives kept per subgraph
_JOIN_V05 = """
directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) \
repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldValue
"""


def _join_version(schema: MergedSchema) -> str:
    newest = max(s.version for s in schema.subgraphs.values())
    return "v0.5" if newest >= (2, 8) else "v0.4" if newest >= (2, 7) else "v0.3"


def print_supergraph(schema: MergedSchema) -> str:
    specs = _used_specs(schema)
    version = _join_version(schema)
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        f'@link(url: "https://specs.apollo.dev/join/{version}", for: EXECUTION)',
        *(_SPECS[s][0] for s in specs if not (s == "cost" and "listSize" in specs)),
        *spec_links(schema),
    ]
    roots = [
        f"  {op}: {name}"
        for op, name in (
            ("query", "Query"),
            ("mutation", "Mutation"),
            ("subscription", "Subscription"),
        )
        if name in schema.types
    ]
    label = "\n  overrideLabel: String" if version != "v0.3" else ""
    context = "\n  contextArguments: [join__ContextArgument!]" if version == "v0.5" else ""
    graphs = "\n".join(
        f"  {g} @join__graph(name: {_string(s.name)}, url: {_string(s.url)})"
        for g, s in schema.subgraphs.items()
    )
    parts = [
        "schema " + " ".join(links) + " {\n" + "\n".join(roots) + "\n}",
        _JOIN_DEFINITIONS.replace("{label}", label)
        .replace("{context}", context)
        .replace("{v05}", _JOIN_V05.replace("\\\n", "") if version == "v0.5" else ""),
        *(_SPECS[s][1] for s in specs if _SPECS[s][1]),
        *(_directive_definition(d) for d in schema.executable_directives),
        *(_directive_definition(d) for d in schema.composed_directives.values()),
        *(
            ["directive @oneOf on INPUT_OBJECT"]
            if any(t.one_of for t in schema.types.values())
            else []
        ),
        "enum join__Graph {\n" + graphs + "\n}",
        *(_type(schema, t) for t in _ordered(schema)),
    ]
    return "\n\n".join(parts) + "\n"


def _ordered(schema: MergedSchema) -> list[MergedType]:
    order = [Kind.SCALAR, Kind.OBJECT, Kind.INTERFACE, Kind.UNION, Kind.ENUM, Kind.INPUT_OBJECT]
    return sorted(schema.types.values(), key=lambda t: order.index(t.kind))
