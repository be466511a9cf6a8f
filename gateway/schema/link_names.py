"""Spec directives as one supergraph spells them: `@link` may rename (`as:`) a spec, so the join,
inaccessible and authorisation directives are looked up by the names its @link gives them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    DocumentNode,
    EnumValueNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    StringValueNode,
    ValueNode,
)

from gateway.errors import SupergraphError

_SPEC_URL = re.compile(r"^https?://specs\.apollo\.dev/(?P<name>[a-zA-Z_]+)/v(?P<version>\d+\.\d+)")


@dataclass(slots=True)
class LinkNames:
    """Directive names as this supergraph spells them (the `@link` spec allows renaming)."""

    join: str = "join"
    inaccessible: str = "inaccessible"
    authenticated: str = "authenticated"
    requires_scopes: str = "requiresScopes"
    policy: str = "policy"
    context: str = "context"
    link_specs: set[str] = field(default_factory=set)
    # directives imported from specs other than Apollo's: composed ones (@composeDirective),
    # which stay in the API schema
    composed: set[str] = field(default_factory=set)
    # directives imported (by their local names) from Apollo's specs
    imported: set[str] = field(default_factory=set)
    # the demand control directives (the cost spec): name in the spec -> name here
    cost: dict[str, str] = field(default_factory=dict)

    def join_directive(self, name: str) -> str:
        return f"{self.join}__{name}"


def link_names(doc: DocumentNode) -> LinkNames:
    names = LinkNames()
    for definition in doc.definitions:
        if not isinstance(definition, SchemaDefinitionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value not in {"link", "core"}:
                continue
            args = directive_args(directive)
            url = args.get("url") or args.get("feature")
            match = _SPEC_URL.match(str(url or ""))
            if not match:
                names.composed |= _imported_directives(args.get("import"))
                continue
            spec = match.group("name")
            # a spec's own directive may be imported under another name (Apollo's composition
            # imports @inaccessible as the subgraphs spell it, e.g. @fed__inaccessible)
            alias = _main_directive(spec, args.get("as"), args.get("import"))
            names.link_specs.add(spec)
            names.imported |= _imported_directives(args.get("import"))
            if spec == "join":
                names.join = str(alias or "join")
            elif spec == "inaccessible":
                names.inaccessible = str(alias or "inaccessible")
            elif spec == "authenticated":
                names.authenticated = str(alias or "authenticated")
            elif spec == "requiresScopes":
                names.requires_scopes = str(alias or "requiresScopes")
            elif spec == "policy":
                names.policy = str(alias or "policy")
            elif spec == "context":
                names.context = str(alias or "context")
            elif spec == "cost":
                names.cost = _spec_directives(
                    str(args.get("as") or "cost"), args.get("import"), "cost"
                )
    if "join" not in names.link_specs:
        raise SupergraphError("not a supergraph: no @link to the join spec on the schema")
    return names


def _main_directive(spec: str, alias: object, imports: object) -> str | None:
    """The local name of the directive named like its spec: its import's `as`, or the
    spec's `as`; None when neither renames it."""
    for item in imports if isinstance(imports, list) else ():
        if isinstance(item, dict) and item.get("name") == f"@{spec}" and item.get("as"):
            return str(item["as"])[1:]
        if item == f"@{spec}" or (isinstance(item, dict) and item.get("name") == f"@{spec}"):
            return None
    return str(alias) if alias else None


def _spec_directives(prefix: str, imports: object, spec: str) -> dict[str, str]:
    """The local names of the cost spec's directives: imported (maybe renamed) or prefixed."""
    out = {spec: prefix, "listSize": f"{prefix}__listSize"}
    for item in imports if isinstance(imports, list) else ():
        name, alias = (item.get("name"), item.get("as")) if isinstance(item, dict) else (item, None)
        if isinstance(name, str) and name.startswith("@") and name[1:] in out:
            out[name[1:]] = str(alias or name)[1:]
    return out


def _imported_directives(imports: object) -> set[str]:
    out = set()
    for item in imports if isinstance(imports, list) else ():
        name = (item.get("as") or item.get("name")) if isinstance(item, dict) else item
        if isinstance(name, str) and name.startswith("@"):
            out.add(name[1:])
    return out


def _value(node: ValueNode) -> object:
    if isinstance(node, StringValueNode | EnumValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    return getattr(node, "value", None)


def directive_args(directive: ConstDirectiveNode) -> dict[str, object]:
    return {arg.name.value: _value(arg.value) for arg in directive.arguments or ()}


def directives(node: object, name: str) -> list[dict[str, object]]:
    return [
        directive_args(d) for d in getattr(node, "directives", None) or () if d.name.value == name
    ]
