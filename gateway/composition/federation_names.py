"""Which federation version a subgraph speaks and how it spells the federation directives.

A Federation 2 subgraph links the spec (`@link(url: ".../federation/v2.3", import: [...])`):
imported directives keep their name or take the one `as:` gives, the rest are reachable as
`@federation__name` (or `@<as>__name`). A subgraph without that link is Federation 1 style:
every federation directive by its bare name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
)

FEDERATION_DIRECTIVES = (
    "key",
    "external",
    "requires",
    "provides",
    "extends",
    "shareable",
    "inaccessible",
    "override",
    "tag",
    "interfaceObject",
    "composeDirective",
    "authenticated",
    "requiresScopes",
    "policy",
    "context",
    "fromContext",
    "cost",
    "listSize",
)
FEDERATION_1_DIRECTIVES = (
    "key",
    "external",
    "requires",
    "provides",
    "extends",
    "tag",
    "inaccessible",
)

_FEDERATION_URL = re.compile(r"^https?://specs\.apollo\.dev/federation/v(\d+)\.(\d+)/?$")


@dataclass(slots=True)
class FederationNames:
    version: tuple[int, int]
    by_local_name: dict[str, str] = field(default_factory=dict)  # local -> canonical

    def canonical(self, directive: ConstDirectiveNode) -> str | None:
        return self.by_local_name.get(directive.name.value)


class LinkError(ValueError):
    """The subgraph's @link to the federation spec cannot be read."""


def schema_directives(doc: DocumentNode) -> list[ConstDirectiveNode]:
    out: list[ConstDirectiveNode] = []
    for definition in doc.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            out.extend(definition.directives or ())
    return out


def _string(node: object) -> str | None:
    return node.value if isinstance(node, StringValueNode) else None


def federation_names(doc: DocumentNode) -> FederationNames:
    for directive in schema_directives(doc):
        if directive.name.value != "link":
            continue
        args = {a.name.value: a.value for a in directive.arguments or ()}
        url = _string(args.get("url")) or ""
        match = _FEDERATION_URL.match(url)
        if not match:
            continue
        version = (int(match.group(1)), int(match.group(2)))
        if version[0] != 2:
            raise LinkError(f"federation version v{version[0]}.{version[1]} is not known")
        prefix = _string(args.get("as")) or "federation"
        names = FederationNames(version)
        for name in FEDERATION_DIRECTIVES:
            names.by_local_name[f"{prefix}__{name}"] = name
        imports = args.get("import")
        for item in imports.values if isinstance(imports, ListValueNode) else ():
            imported, alias = _import(item)
            if imported.startswith("@") and imported[1:] in FEDERATION_DIRECTIVES:
                names.by_local_name[(alias or imported)[1:]] = imported[1:]
            elif imported.startswith("@"):
                raise LinkError(f"@link imports {imported}, which the federation spec lacks")
        return names
    return FederationNames((1, 0), {name: name for name in FEDERATION_1_DIRECTIVES})


def _import(item: object) -> tuple[str, str | None]:
    if isinstance(item, StringValueNode):
        return item.value, None
    if isinstance(item, ObjectValueNode):
        fields = {f.name.value: _string(f.value) for f in item.fields}
        return fields.get("name") or "", fields.get("as")
    raise LinkError("an @link import must be a string or {name:, as:}")
