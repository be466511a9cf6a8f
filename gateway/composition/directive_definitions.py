"""Directive definitions a subgraph spells out: a federation directive's may be restated but
not changed, and every definition may use only types the subgraph has."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import DirectiveDefinitionNode, TypeDefinitionNode, TypeExtensionNode, print_ast

from gateway.composition.errors import ErrorLog
from gateway.composition.federation_names import FederationNames
from gateway.composition.field_sets import BUILT_IN_SCALARS, named_type

_REQUIRED_ARGUMENTS = {
    "key": "fields",
    "requires": "fields",
    "provides": "fields",
    "override": "from",
}


def check_directive_definitions(
    name: str, names: FederationNames, definitions: Sequence[object], log: ErrorLog
) -> None:
    """A subgraph may spell out a federation directive's definition, but not change it."""
    known = BUILT_IN_SCALARS | {
        d.name.value for d in definitions if isinstance(d, TypeDefinitionNode | TypeExtensionNode)
    }
    for definition in definitions:
        if not isinstance(definition, DirectiveDefinitionNode):
            continue
        for arg in definition.arguments or ():
            arg_type = named_type(print_ast(arg.type))
            if arg_type not in known:
                log.add(
                    "INVALID_GRAPHQL",
                    f'Unknown type "{arg_type}" in the definition of @{definition.name.value}.',
                    subgraphs=[name],
                    coordinate=f"@{definition.name.value}({arg.name.value}:)",
                    hint=f'define "{arg_type}" (e.g. scalar {arg_type}) or remove the directive '
                    "definition.",
                )
        canonical = names.by_local_name.get(definition.name.value)
        required = _REQUIRED_ARGUMENTS.get(canonical or "")
        if required is None:
            continue
        args = {a.name.value: print_ast(a.type) for a in definition.arguments or ()}
        if not args.get(required, "").endswith("!"):
            log.add(
                "DIRECTIVE_DEFINITION_INVALID",
                f'Invalid definition for directive "@{definition.name.value}": argument '
                f'"{required}" must be non-null, found "{args.get(required, "(missing)")}".',
                subgraphs=[name],
                coordinate=f"@{definition.name.value}",
                hint="remove the definition (composition knows it) or copy it from the spec.",
            )
