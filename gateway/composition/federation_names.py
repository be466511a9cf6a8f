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

# Each federation directive and the spec version that introduced it (Apollo's spec history;
# v2.10 and v2.11 add none, v2.12 adds @cacheTag).
INTRODUCED: dict[str, tuple[int, int]] = {
    "key": (2, 0),
    "external": (2, 0),
    "requires": (2, 0),
    "provides": (2, 0),
    "extends": (2, 0),
    "shareable": (2, 0),
    "inaccessible": (2, 0),
    "override": (2, 0),
    "tag": (2, 0),
    "composeDirective": (2, 1),
    "interfaceObject": (2, 3),
    "authenticated": (2, 5),
    "requiresScopes": (2, 5),
    "policy": (2, 6),
    "context": (2, 8),
    "fromContext": (2, 8),
    "cost": (2, 9),
    "listSize": (2, 9),
    "cacheTag": (2, 12),
}
FEDERATION_DIRECTIVES = tuple(INTRODUCED)
# the spec's types a subgraph may import (by name, without "@"), and the version that introduced
# each: they belong to federation, not to the subgraph's schema
TYPES_INTRODUCED: dict[str, tuple[int, int]] = {
    "FieldSet": (2, 0),
    "Scope": (2, 5),
    "Policy": (2, 6),
    "ContextFieldValue": (2, 8),
}
NEWEST_VERSION = (2, 12)
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
    types: set[str] = field(default_factory=set)  # local names of imported federation types

    def canonical(self, directive: ConstDirectiveNode) -> str | None:
        return self.by_local_name.get(directive.name.value)


class LinkError(ValueError):
    """The subgraph's @link to the federation spec cannot be read."""

    code = "INVALID_LINK_DIRECTIVE_USAGE"


class UnknownVersion(LinkError):
    code = "UNKNOWN_FEDERATION_LINK_VERSION"


def schema_directives(doc: DocumentNode) -> list[ConstDirectiveNode]:
    out: list[ConstDirectiveNode] = []
    for definition in doc.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            out.extend(definition.directives or ())
    return out


def _string(node: object) -> str | None:
    return node.value if isinstance(node, StringValueNode) else None


def federation_names(doc: DocumentNode) -> FederationNames:
    links = [
        d
        for d in schema_directives(doc)
        if d.name.value == "link"
        and any(
            a.name.value == "url" and _FEDERATION_URL.match(_string(a.value) or "")
            for a in d.arguments or ()
        )
    ]
    if len(links) > 1:
        raise LinkError("Duplicate inclusion of feature https://specs.apollo.dev/federation")
    for directive in schema_directives(doc):
        if directive.name.value != "link":
            continue
        args = {a.name.value: a.value for a in directive.arguments or ()}
        url = _string(args.get("url")) or ""
        match = _FEDERATION_URL.match(url)
        if not match:
            continue
        version = (int(match.group(1)), int(match.group(2)))
        if version[0] != 2 or version > NEWEST_VERSION:
            raise UnknownVersion(
                f"Invalid version v{version[0]}.{version[1]} for the federation feature in "
                "@link directive on schema."
            )
        prefix = _string(args.get("as")) or "federation"
        names = FederationNames(version)
        defined = [n for n, since in INTRODUCED.items() if since <= version]
        for name in defined:
            names.by_local_name[f"{prefix}__{name}"] = name
        imports = args.get("import")
        for item in imports.values if isinstance(imports, ListValueNode) else ():
            imported, alias = _import(item)
            if alias is not None and alias.startswith("@") != imported.startswith("@"):
                raise LinkError(
                    f'Invalid @link import renaming: "{imported}" imported name should '
                    f"{'' if imported.startswith('@') else 'not '}start with a '@' character, "
                    f'but got "{alias}".'
                )
            if imported.startswith("@") and imported[1:] in defined:
                names.by_local_name[(alias or imported)[1:]] = imported[1:]
            elif imported in TYPES_INTRODUCED and TYPES_INTRODUCED[imported] <= version:
                names.types.add(alias or imported)
            else:
                raise LinkError(f'Cannot import unknown element "{imported}".')
        return names
    return FederationNames((1, 0), {name: name for name in FEDERATION_1_DIRECTIVES})


def _import(item: object) -> tuple[str, str | None]:
    if isinstance(item, StringValueNode):
        return item.value, None
    if isinstance(item, ObjectValueNode):
        fields = {f.name.value: _string(f.value) for f in item.fields}
        return fields.get("name") or "", fields.get("as")
    raise LinkError("an @link import must be a string or {name:, as:}")
