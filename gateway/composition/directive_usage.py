"""Where federation directives may stand, beyond their declared locations: @shareable and
@provides only on object type fields, no @tag or @inaccessible on an @external field (they
belong where the field is resolved)."""

from __future__ import annotations

import json

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import Kind, Subgraph


def check_directive_usage(subgraph: Subgraph, log: ErrorLog) -> None:
    if subgraph.is_fed1:
        return

    def error(code: str, coordinate: str, message: str, hint: str) -> None:
        log.add(code, message, subgraphs=[subgraph.name], coordinate=coordinate, hint=hint)

    for type_def in subgraph.types.values():
        on_interface = type_def.kind == Kind.INTERFACE and not type_def.interface_object
        for field in type_def.fields.values():
            coordinate = f"{type_def.name}.{field.name}"
            if on_interface and field.shareable:
                error(
                    "INVALID_SHAREABLE_USAGE",
                    coordinate,
                    f'Invalid use of @shareable on field "{coordinate}": only object type fields '
                    "can be marked with @shareable.",
                    "mark the implementing types' fields @shareable instead.",
                )
            if on_interface and field.provides is not None:
                error(
                    "PROVIDES_UNSUPPORTED_ON_INTERFACE",
                    coordinate,
                    f'Cannot use @provides on field "{coordinate}" of parent type '
                    f'"{type_def.name}": @provides is not yet supported within interfaces.',
                    "put @provides on the implementing types' fields.",
                )
            if not field.external:
                continue
            merged = ["@inaccessible"] if field.inaccessible else []
            merged += [f"@tag(name: {json.dumps(t)})" for t in field.tags]
            for directive in merged:
                error(
                    "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
                    coordinate,
                    f'Cannot apply merged directive {directive} to external field "{coordinate}".',
                    f"put {directive} where the field is resolved, not on its @external copy.",
                )
