"""Which fields are personal data, and of what category: `@personalData(category: ...)`.

A subgraph declares it with Rugzak's privacy spec (subgraphs/common/privacy.py), composed into
the supergraph by `@composeDirective` like `@dataSubject`:

    extend schema
      @link(url: "https://rugzak.dev/privacy/v0.1", import: ["@dataSubject", "@personalData"])
      @composeDirective(name: "@personalData")

    type Citizen @key(fields: "insz") @dataSubject(fields: "insz") {
      childBenefits: [ChildBenefitEntitlement!] @personalData(category: "child-benefit")
    }

On a field: that field. On an object type: each of its fields. On an interface or an interface's
field: the same for each object type implementing it, unless the object type says otherwise.
Every read of such a field is logged (gateway/audit/reads.py), with its category and name.

Why a directive rather than categories named in the `@policy` groups: who may read a field and
what the field is are two questions; a field public to every civil servant can still be a
citizen's personal data, and a municipality's subgraph declares its own fields the same way
without touching the policies every gateway runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, GraphQLObjectType, GraphQLSchema

from gateway.ownership.subjects import directive_name

log = logging.getLogger("rugzak.audit")

DIRECTIVE = "personalData"

PersonalFields = dict[tuple[str, str], str]
"""(object type, field) -> category."""


def read_personal_data(
    doc: DocumentNode,
    api_schema: GraphQLSchema,
    applied: Mapping[str, Mapping[str, list[dict[str, Any]]]],
) -> PersonalFields:
    """Every personal field of the API schema's object types, from the composed directive's
    applications (`applied`: directive -> coordinate -> arguments)."""
    name = directive_name(doc, DIRECTIVE)
    if name is None:
        return {}
    declared: dict[str, str] = {}
    for coordinate, applications in applied.get(name, {}).items():
        categories = {str(args.get("category") or "").strip() for args in applications}
        categories.discard("")
        if len(categories) != 1:
            log.warning("@%s on %s names no single category: ignored", name, coordinate)
            continue
        declared[coordinate] = categories.pop()
    if not declared:
        return {}
    found: PersonalFields = {}
    for type_name, gtype in api_schema.type_map.items():
        if not isinstance(gtype, GraphQLObjectType) or type_name.startswith("__"):
            continue
        interfaces = [i.name for i in gtype.interfaces]
        for field_name in gtype.fields:
            category = _category(declared, type_name, field_name, interfaces)
            if category is not None:
                found[(type_name, field_name)] = category
    return found


def _category(
    declared: Mapping[str, str], type_name: str, field_name: str, interfaces: list[str]
) -> str | None:
    """The nearest declaration: the field, an interface's field, the type, an interface."""
    found = declared.get(f"{type_name}.{field_name}")
    for interface in interfaces:
        found = found or declared.get(f"{interface}.{field_name}")
    found = found or declared.get(type_name)
    for interface in interfaces:
        found = found or declared.get(interface)
    return found
