"""@composeDirective (Federation 2.1+): custom type-system directives that reach the supergraph.

A subgraph links the directive's spec (`@link(url: "https://example.dev/privacy/v0.1",
import: ["@personalData"])`), defines the directive, and names it in
`@composeDirective(name: "@personalData")`. The supergraph then carries the definition (merged
over the subgraphs that compose it), the spec's @link, and every application the composing
subgraphs make; the applications of subgraphs that do not compose the directive are left out.

Where the reference library keeps two different applications of a non-repeatable directive on
one element (an invalid schema; Apollo keeps one and only hints), Rugzak refuses: such
directives may carry security meaning (who the data is about, which category of personal data),
and picking one would silently drop the other subgraph's statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from graphql import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    print_ast,
)

from gateway.composition.errors import ErrorLog
from gateway.composition.federation_names import FederationNames, schema_directives
from gateway.composition.subgraph_model import Applied, Element
from gateway.composition.supergraph_model import MergedSchema

# url "https://example.dev/privacy/v0.1" -> identity "https://example.dev/privacy", version
_VERSIONED_URL = re.compile(r"^(?P<identity>.+?)/v(?P<major>\d+)\.(?P<minor>\d+)/?$")
_SPECIFIED = frozenset({"deprecated", "specifiedBy", "oneOf", "include", "skip", "defer", "stream"})
CODE = "DIRECTIVE_COMPOSITION_ERROR"
CONFLICT_CODE = "INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS"


@dataclass(frozen=True, slots=True)
class Spec:
    """One @link of a subgraph (or of the supergraph) to a spec other than federation."""

    url: str
    identity: str
    version: tuple[int, int] | None
    prefix: str  # what un-imported names of the spec are prefixed with
    imports: tuple[tuple[str, str], ...]  # (local name, name in the spec), without "@"


@dataclass(slots=True)
class ComposedDirective:
    """A composed directive's definition, as one subgraph gives it or as merged."""

    name: str  # as the subgraphs (and so the supergraph) spell it
    original: str  # its name in the spec
    spec: Spec
    description: str | None
    args: dict[str, tuple[str, str | None]]  # name -> (type, printed default)
    repeatable: bool
    locations: list[str] = field(default_factory=list)

    @property
    def required(self) -> list[str]:
        return [n for n, (t, d) in self.args.items() if t.endswith("!") and d is None]


def _string(node: object) -> str | None:
    return node.value if isinstance(node, StringValueNode) else None


def read_specs(doc: DocumentNode) -> list[Spec]:
    """The subgraph's @links other than to the link and federation specs."""
    out = []
    for directive in schema_directives(doc):
        if directive.name.value != "link":
            continue
        args = {a.name.value: a.value for a in directive.arguments or ()}
        url = _string(args.get("url")) or ""
        match = _VERSIONED_URL.match(url)
        identity = match.group("identity") if match else url.rstrip("/")
        if identity.split("://", 1)[-1] in ("specs.apollo.dev/link", "specs.apollo.dev/federation"):
            continue
        version = (int(match.group("major")), int(match.group("minor"))) if match else None
        prefix = _string(args.get("as")) or identity.rsplit("/", 1)[-1]
        imports = []
        listed = args.get("import")
        for item in listed.values if isinstance(listed, ListValueNode) else ():
            name, alias = _import(item)
            if name.startswith("@"):
                imports.append(((alias or name).lstrip("@"), name.lstrip("@")))
        out.append(Spec(url, identity, version, prefix, tuple(imports)))
    return out


def _import(item: object) -> tuple[str, str | None]:
    if isinstance(item, StringValueNode):
        return item.value, None
    if isinstance(item, ObjectValueNode):
        fields = {f.name.value: _string(f.value) for f in item.fields}
        return fields.get("name") or "", fields.get("as")
    return "", None


def _member(specs: Sequence[Spec], local: str) -> tuple[Spec, str] | None:
    """The spec a directive of this local name comes from, with its name in the spec."""
    for spec in specs:
        for name, original in spec.imports:
            if name == local:
                return spec, original
    for spec in specs:
        if local.startswith(f"{spec.prefix}__"):
            return spec, local[len(spec.prefix) + 2 :]
    return None


def read_composed_directives(
    subgraph: str, doc: DocumentNode, names: FederationNames, log: ErrorLog
) -> dict[str, ComposedDirective]:
    """The directives this subgraph composes, by the name it gives them."""
    requested = [
        _string(a.value)
        for d in schema_directives(doc)
        if names.canonical(d) == "composeDirective"
        for a in d.arguments or ()
        if a.name.value == "name"
    ]
    definitions = {
        d.name.value: d for d in doc.definitions if isinstance(d, DirectiveDefinitionNode)
    }
    specs = read_specs(doc)
    out: dict[str, ComposedDirective] = {}
    for requested_name in requested:
        if requested_name is None:
            continue
        local = requested_name.lstrip("@")
        definition = definitions.get(local)
        if definition is None or local in names.by_local_name or local in _SPECIFIED:
            log.add(
                CODE,
                "Could not find matching directive definition for argument to @composeDirective "
                f'"{requested_name}" in subgraph "{subgraph}".',
                subgraphs=[subgraph],
                coordinate=f"@{local}",
                hint=f"define @{local} in the subgraph (federation and built-in directives "
                "cannot be composed).",
            )
            continue
        member = _member(specs, local)
        if member is None:
            log.add(
                CODE,
                f'Directive "@{local}" in subgraph "{subgraph}" cannot be composed because it is '
                "not a member of a core feature.",
                subgraphs=[subgraph],
                coordinate=f"@{local}",
                hint=f'import it with the @link of its spec (import: ["@{local}"]).',
            )
            continue
        out[local] = ComposedDirective(
            name=local,
            original=member[1],
            spec=member[0],
            description=definition.description.value if definition.description else None,
            args={
                a.name.value: (
                    print_ast(a.type),
                    print_ast(a.default_value) if a.default_value is not None else None,
                )
                for a in definition.arguments or ()
            },
            repeatable=definition.repeatable,
            locations=[loc.value for loc in definition.locations],
        )
    return out


def read_applied(
    subgraph: str, composed: dict[str, ComposedDirective], node: object, log: ErrorLog
) -> list[Applied]:
    """The applications of composed directives on one element, once each."""
    out: list[Applied] = []
    for directive in getattr(node, "directives", None) or ():
        definition = composed.get(directive.name.value)
        if definition is None:
            continue
        applied = _applied(directive)
        unknown = [n for n, _ in applied.args if n not in definition.args]
        missing = [n for n in definition.required if n not in dict(applied.args)]
        if unknown or missing:
            what = f'unknown argument "{unknown[0]}"' if unknown else f'no "{missing[0]}"'
            log.add(
                "INVALID_GRAPHQL",
                f"{applied.printed()} has {what}, as @{definition.name} is defined in subgraph "
                f'"{subgraph}".',
                subgraphs=[subgraph],
                coordinate=getattr(getattr(node, "name", None), "value", None),
                hint=f"apply @{definition.name} with the arguments its definition declares.",
            )
            continue
        if applied not in out:
            out.append(applied)
    return out


def _applied(directive: ConstDirectiveNode) -> Applied:
    return Applied(
        directive.name.value,
        tuple((a.name.value, print_ast(a.value)) for a in directive.arguments or ()),
    )


def merge_composed_directives(schema: MergedSchema, log: ErrorLog) -> None:
    """The merged definitions and spec links of every composed directive, then each element's
    applications checked against them."""
    by_spec_name: dict[tuple[str, str], dict[str, list[str]]] = {}
    by_name: dict[str, list[tuple[str, ComposedDirective]]] = {}
    for graph, subgraph in schema.subgraphs.items():
        for directive in subgraph.composed.values():
            key = (directive.spec.identity, directive.original)
            by_spec_name.setdefault(key, {}).setdefault(directive.name, []).append(graph)
            by_name.setdefault(directive.name, []).append((graph, directive))
    failed = False
    for (_, original), spellings in by_spec_name.items():
        if len(spellings) > 1:
            failed = True
            described = " but ".join(
                f'name "@{n}" in {schema.quoted(g)}' for n, g in spellings.items()
            )
            log.add(
                CODE,
                f'Composed directive "@{original}" has incompatible name across subgraphs: it has '
                f"{described}. Composed directive must have the same name across all subgraphs.",
                subgraphs=[schema.name_of(g) for gs in spellings.values() for g in gs],
                coordinate=f"@{original}",
                hint="import the directive under the same name in every subgraph.",
            )
    for name, entries in by_name.items():
        identities = {d.spec.identity for _, d in entries}
        majors = {d.spec.version[0] for _, d in entries if d.spec.version}
        if len(identities) > 1 or len(majors) > 1:
            failed = True
            graphs = [g for g, _ in entries]
            log.add(
                CODE,
                f'Composed directive "@{name}" is not linked by the same core feature in every '
                f"subgraph: {', '.join(sorted(d.spec.url for _, d in entries))}."
                if len(identities) > 1
                else f'Core feature "{entries[0][1].spec.identity}" requested to be merged has '
                "major version mismatch across subgraphs",
                subgraphs=schema.names_of(graphs),
                coordinate=f"@{name}",
                hint="link one spec, of one major version, for the directive in every subgraph.",
            )
    for name, entries in by_name.items():
        failed |= _check_argument_types(schema, name, entries, log)
    if failed:
        return
    schema.composed_directives = {n: _merged(e) for n, e in by_name.items()}
    _check_applications(schema, log)


def _check_argument_types(
    schema: MergedSchema, name: str, entries: list[tuple[str, ComposedDirective]], log: ErrorLog
) -> bool:
    """An argument of a composed directive must have one type (but for nullability) in every
    definition: the supergraph's one definition could not take the others' values (Apollo's
    composition refuses these applications as invalid GraphQL; the reference library composes a
    supergraph that does not validate)."""
    failed = False
    arg_names = {arg for _, d in entries for arg in d.args}
    for arg in sorted(arg_names):
        types = {g: d.args[arg][0] for g, d in entries if arg in d.args}
        if len({t.replace("!", "") for t in types.values()}) < 2:
            continue
        failed = True
        described = "; ".join(f'"{t}" in "{schema.name_of(g)}"' for g, t in types.items())
        log.add(
            "INVALID_GRAPHQL",
            f'Argument "{arg}" of composed directive "@{name}" has incompatible types across '
            f"subgraphs: {described}; its applications cannot all be valid in the supergraph.",
            subgraphs=schema.names_of(list(types)),
            coordinate=f"@{name}({arg}:)",
            hint=f"define @{name} with the same argument types in every subgraph.",
        )
    return failed


def _merged(entries: list[tuple[str, ComposedDirective]]) -> ComposedDirective:
    """Locations and arguments of every definition, repeatable if any is, an argument
    non-null where any definition makes it so, defaults from the newest spec version that has
    them. No description (the reference library prints none)."""
    newest_first = sorted(
        (d for _, d in entries), key=lambda d: d.spec.version or (0, 0), reverse=True
    )
    first = newest_first[0]
    merged = ComposedDirective(
        first.name,
        first.original,
        first.spec,
        None,
        {},
        any(d.repeatable for d in newest_first),
    )
    for _, directive in entries:
        merged.locations += [loc for loc in directive.locations if loc not in merged.locations]
        for arg, (type_, _) in directive.args.items():
            current = merged.args.get(arg)
            strict = type_ if current is None or type_.endswith("!") else current[0]
            default = next(
                (d.args[arg][1] for d in newest_first if d.args.get(arg, ("", None))[1]), None
            )
            merged.args[arg] = (strict, default)
    return merged


def _elements(schema: MergedSchema) -> Iterator[tuple[str, Element, list[tuple[str, Element]]]]:
    """(coordinate, merged element, its declarations by graph) of everything that can carry
    a directive."""
    for merged in schema.types.values():
        yield merged.name, merged, list(merged.by_graph.items())
        for name, f in merged.fields.items():
            yield f"{merged.name}.{name}", f, list(f.by_graph.items())
            for arg_name, arg in f.args.items():
                yield f"{merged.name}.{name}({arg_name}:)", arg, list(arg.by_graph.items())
        for name, v in merged.input_fields.items():
            yield f"{merged.name}.{name}", v, list(v.by_graph.items())
        for name, e in merged.values.items():
            yield f"{merged.name}.{name}", e, list(e.by_graph.items())


def _check_applications(schema: MergedSchema, log: ErrorLog) -> None:
    for coordinate, element, declared in _elements(schema):
        for name, definition in schema.composed_directives.items():
            applied = [a for a in element.applied if a.name == name]
            if not applied:
                continue
            for application in applied:
                missing = [n for n in definition.required if n not in dict(application.args)]
                if missing:
                    log.add(
                        CODE,
                        f'{application.printed()} on "{coordinate}" lacks argument "{missing[0]}",'
                        f" which @{name} requires as another subgraph defines it.",
                        subgraphs=[
                            schema.name_of(g) for g, e in declared if application in e.applied
                        ],
                        coordinate=coordinate,
                        hint=f"define @{name} the same way in every subgraph that composes it.",
                    )
            if definition.repeatable or len(applied) < 2:
                continue
            variants = "; ".join(
                f"{a.printed()} in " + schema.quoted([g for g, e in declared if a in e.applied])
                for a in applied
            )
            log.add(
                CONFLICT_CODE,
                f'Non-repeatable directive @{name} is applied to "{coordinate}" with different '
                f"arguments: {variants}. Rugzak refuses this (other composers keep one and drop "
                "the others) because such a directive may carry security meaning.",
                subgraphs=[
                    schema.name_of(g) for g, e in declared if any(a in e.applied for a in applied)
                ],
                coordinate=coordinate,
                hint=f'apply @{name} to "{coordinate}" with the same arguments in every subgraph.',
            )


def spec_links(schema: MergedSchema) -> list[str]:
    """The supergraph's @link of each spec a composed directive comes from, at the newest
    version any subgraph links, importing the composed directives by their names."""
    specs: dict[str, list[ComposedDirective]] = {}
    for directive in schema.composed_directives.values():
        specs.setdefault(directive.spec.identity, []).append(directive)
    newest: dict[str, Spec] = {}
    for subgraph in schema.subgraphs.values():
        for directive in subgraph.composed.values():
            spec = directive.spec
            seen = newest.get(spec.identity)
            if seen is None or (spec.version or (0, 0)) > (seen.version or (0, 0)):
                newest[spec.identity] = spec
    out = []
    for identity, directives in specs.items():
        imports = ", ".join(
            f'"@{d.name}"'
            if d.name == d.original
            else f'{{name: "@{d.original}", as: "@{d.name}"}}'
            for d in directives
        )
        out.append(f'@link(url: "{newest[identity].url}", import: [{imports}])')
    return out
