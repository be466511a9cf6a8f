"""Whose data an entity is: `@dataSubject(fields: "insz")` on a type, read from the supergraph.

A subgraph declares it with its own spec, composed into the supergraph by `@composeDirective`:

    extend schema
      @link(url: "https://rugzak.dev/privacy/v0.1", import: ["@dataSubject"])
      @composeDirective(name: "@dataSubject")

    type Citizen @key(fields: "insz") @dataSubject(fields: "insz") { insz: ID! ... }
    type Ticket @key(fields: "id") @dataSubject(fields: "reporter { insz }") { ... }

`fields` is a path of single fields from the entity to one scalar: the INSZ of the citizen the
entity is about. A policy such as `citizen-self` on a field of that type, or of a value reached
through it, then holds per object: only where that scalar equals the caller's INSZ.

A declaration the gateway cannot use (an unknown field, a list on the way, more than one leaf) is
ignored with a warning, which closes the fields that relied on it rather than opening them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    is_interface_type,
    parse,
)

from gateway.schema.link_names import directives

log = logging.getLogger("rugzak.ownership")

PRIVACY_SPEC = re.compile(r"^https?://[^/]+/privacy/v\d+\.\d+/?$")
DIRECTIVE = "dataSubject"


@dataclass(frozen=True, slots=True)
class DataSubject:
    """How to read the data subject of an object of `type_name`: the field names from the
    object down to the scalar holding the subject's INSZ."""

    type_name: str
    path: tuple[str, ...]
    field_set: str


def directive_name(doc: DocumentNode, directive: str = DIRECTIVE) -> str | None:
    """The name the supergraph gives the privacy spec's `directive`, from its `@link` (imported,
    maybe renamed with `as`, or namespaced as `<spec>__<directive>`); None without the link."""
    for definition in doc.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for args in directives(definition, "link"):
            url = str(args.get("url") or "")
            if not PRIVACY_SPEC.match(url):
                continue
            for item in args.get("import") or ():  # type: ignore[attr-defined]
                if item == f"@{directive}":
                    return directive
                if isinstance(item, dict) and item.get("name") == f"@{directive}":
                    return str(item.get("as") or item["name"]).lstrip("@")
            namespace = str(args.get("as") or "privacy")
            return f"{namespace}__{directive}"
    return None


def read_data_subjects(
    doc: DocumentNode,
    api_schema: GraphQLSchema,
    applied: Mapping[str, Mapping[str, list[dict[str, Any]]]],
) -> dict[str, DataSubject]:
    """Object type name -> its data subject, from the composed directive's applications
    (`applied`: directive -> coordinate -> arguments, as `Supergraph.applied_directives`). A
    declaration on an interface holds for the object types implementing it (unless one declares
    its own)."""
    name = directive_name(doc)
    if name is None:
        return {}
    declared: dict[str, str] = {}
    on_interfaces: dict[str, str] = {}
    for coordinate, applications in applied.get(name, {}).items():
        gtype = api_schema.get_type(coordinate)
        if gtype is None:
            continue  # a field or argument coordinate, or a type the API schema hides
        values = {str(args.get("fields") or "") for args in applications}
        if len(values) != 1:
            log.warning("@%s on %s names two different subjects: ignored", name, coordinate)
            continue
        target = on_interfaces if is_interface_type(gtype) else declared
        target[coordinate] = values.pop()
    for interface, fields in on_interfaces.items():
        gtype = api_schema.get_type(interface)
        for implementation in api_schema.get_possible_types(gtype):  # type: ignore[arg-type]
            declared.setdefault(implementation.name, fields)
    subjects: dict[str, DataSubject] = {}
    for type_name, fields in declared.items():
        path = _subject_path(api_schema, type_name, fields)
        if path is None:
            log.warning(
                "@%s(fields: %r) on %s is not a path of single fields to one scalar of the API"
                " schema: ignored (its citizen-self fields stay closed)",
                name,
                fields,
                type_name,
            )
            continue
        subjects[type_name] = DataSubject(type_name, path, fields)
    return subjects


def _subject_path(schema: GraphQLSchema, type_name: str, fields: str) -> tuple[str, ...] | None:
    try:
        operation = parse("{" + fields + "}", no_location=True).definitions[0]
    except Exception:
        return None
    selection_set = operation.selection_set  # type: ignore[attr-defined]
    gtype = schema.get_type(type_name)
    path: list[str] = []
    while True:
        if not isinstance(gtype, GraphQLObjectType) or len(selection_set.selections) != 1:
            return None
        node = selection_set.selections[0]
        if not isinstance(node, FieldNode) or node.alias or node.arguments:
            return None
        field = gtype.fields.get(node.name.value)
        if field is None:
            return None
        path.append(node.name.value)
        field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if node.selection_set is None:
            return tuple(path) if isinstance(field_type, GraphQLScalarType) else None
        gtype = field_type
        selection_set = node.selection_set
