"""Executable directives (`directive @upper on FIELD`): the ones every subgraph defines the same
way reach the supergraph, on the locations they all accept, so clients may use them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql import DirectiveDefinitionNode, DocumentNode, print_ast

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import Subgraph

EXECUTABLE_LOCATIONS = (
    "QUERY",
    "MUTATION",
    "SUBSCRIPTION",
    "FIELD",
    "FRAGMENT_DEFINITION",
    "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT",
    "VARIABLE_DEFINITION",
)
SPECIFIED = frozenset({"skip", "include", "deprecated", "specifiedBy", "oneOf", "defer", "stream"})


@dataclass(slots=True)
class ExecutableDirective:
    name: str
    description: str | None
    args: dict[str, tuple[str, str | None]]  # name -> (type, printed default)
    repeatable: bool
    locations: list[str] = field(default_factory=list)


def read_executable_directives(
    doc: DocumentNode, federation_names: set[str]
) -> dict[str, ExecutableDirective]:
    out = {}
    for definition in doc.definitions:
        if not isinstance(definition, DirectiveDefinitionNode):
            continue
        name = definition.name.value
        locations = [loc.value for loc in definition.locations if loc.value in EXECUTABLE_LOCATIONS]
        if not locations or name in SPECIFIED or name in federation_names:
            continue
        out[name] = ExecutableDirective(
            name,
            definition.description.value if definition.description else None,
            {
                a.name.value: (
                    print_ast(a.type),
                    print_ast(a.default_value) if a.default_value is not None else None,
                )
                for a in definition.arguments or ()
            },
            definition.repeatable,
            locations,
        )
    return out


def merge_executable_directives(
    subgraphs: Sequence[Subgraph], log: ErrorLog
) -> list[ExecutableDirective]:
    """Directives every subgraph defines with the same arguments; on the locations all accept,
    repeatable only if all say so. A directive some subgraph lacks or defines with other
    arguments stays out of the supergraph (as in the ecosystem)."""
    out = []
    names = [n for n in subgraphs[0].executable_directives] if subgraphs else []
    for name in names:
        defined = [s.executable_directives.get(name) for s in subgraphs]
        if any(d is None for d in defined):
            continue
        versions = [d for d in defined if d is not None]
        if any(set(d.args) != set(versions[0].args) for d in versions):
            continue
        args: dict[str, tuple[str, str | None]] = {}
        for arg in versions[0].args:
            types = {d.args[arg][0] for d in versions}
            defaults = {d.args[arg][1] for d in versions} - {None}
            if len(types) > 1 or len(defaults) > 1:
                code = (
                    "FIELD_ARGUMENT_TYPE_MISMATCH"
                    if len(types) > 1
                    else ("FIELD_ARGUMENT_DEFAULT_MISMATCH")
                )
                what = sorted(types) if len(types) > 1 else sorted(str(d) for d in defaults)
                log.add(
                    code,
                    f'Argument "@{name}({arg}:)" is defined differently across subgraphs: '
                    f"{', '.join(what)}.",
                    subgraphs=[s.name for s in subgraphs],
                    coordinate=f"@{name}({arg}:)",
                    hint=f"define @{name} the same way in every subgraph.",
                )
                break
            args[arg] = (types.pop(), defaults.pop() if defaults else None)
        else:
            locations = [
                loc for loc in versions[0].locations if all(loc in d.locations for d in versions)
            ]
            if locations:
                description = next((d.description for d in versions if d.description), None)
                repeatable = all(d.repeatable for d in versions)
                out.append(ExecutableDirective(name, description, args, repeatable, locations))
    return out
