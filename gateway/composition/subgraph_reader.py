"""Subgraph SDL -> `Subgraph`: federation directives read, extensions folded into their types,
federation machinery (`_service`, `_entities`, `_Any`, ...) left out, root types named
Query / Mutation / Subscription."""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    print_ast,
)

from gateway.composition.composed_directives import (
    ComposedDirective,
    read_applied,
    read_composed_directives,
)
from gateway.composition.demand_control import read_cost, read_list_size
from gateway.composition.directive_arguments import Site, check_arguments, check_repeated
from gateway.composition.directive_definitions import check_directive_definitions
from gateway.composition.errors import ErrorLog
from gateway.composition.executable_directives import read_executable_directives
from gateway.composition.federation_names import (
    FEDERATION_DIRECTIVES,
    FederationNames,
    LinkError,
    federation_names,
)
from gateway.composition.subgraph_model import (
    Access,
    Element,
    EnumValue,
    Field,
    InputValue,
    Key,
    Kind,
    Subgraph,
    TypeDef,
)

# Types every federation subgraph library adds; they never reach the supergraph.
FEDERATION_TYPES = frozenset(
    {
        "_Any",
        "_Entity",
        "_Service",
        "_FieldSet",
        "FieldSet",
        "link__Import",
        "link__Purpose",
        "federation__FieldSet",
        "federation__Scope",
        "federation__Policy",
        "federation__ContextFieldValue",
    }
)
FEDERATION_ROOT_FIELDS = frozenset({"_service", "_entities"})
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
_KINDS: dict[type, Kind] = {
    ObjectTypeDefinitionNode: Kind.OBJECT,
    ObjectTypeExtensionNode: Kind.OBJECT,
    InterfaceTypeDefinitionNode: Kind.INTERFACE,
    InterfaceTypeExtensionNode: Kind.INTERFACE,
    UnionTypeDefinitionNode: Kind.UNION,
    UnionTypeExtensionNode: Kind.UNION,
    EnumTypeDefinitionNode: Kind.ENUM,
    EnumTypeExtensionNode: Kind.ENUM,
    InputObjectTypeDefinitionNode: Kind.INPUT_OBJECT,
    InputObjectTypeExtensionNode: Kind.INPUT_OBJECT,
    ScalarTypeDefinitionNode: Kind.SCALAR,
    ScalarTypeExtensionNode: Kind.SCALAR,
}


def graph_id(name: str) -> str:
    """The join__Graph enum value of a subgraph name ("gent-parking" -> GENT_PARKING)."""
    split = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    value = re.sub(r"[^A-Za-z0-9]+", "_", split).strip("_").upper() or "GRAPH"
    return f"_{value}_" if value[0].isdigit() else value


def _args(directive: ConstDirectiveNode) -> dict[str, object]:
    return {a.name.value: a.value for a in directive.arguments or ()}


def _str_arg(directive: ConstDirectiveNode, name: str) -> str | None:
    value = _args(directive).get(name)
    if isinstance(value, StringValueNode):
        return value.value
    if isinstance(value, ListValueNode):  # Federation 1 allowed @key(fields: ["a", "b"])
        return " ".join(v.value for v in value.values if isinstance(v, StringValueNode))
    return None


def _bool_arg(directive: ConstDirectiveNode, name: str, default: bool) -> bool:
    value = _args(directive).get(name)
    return value.value if isinstance(value, BooleanValueNode) else default


def _groups(directive: ConstDirectiveNode, name: str) -> list[list[str]]:
    value = _args(directive).get(name)
    groups: list[list[str]] = []
    for group in value.values if isinstance(value, ListValueNode) else ():
        items = group.values if isinstance(group, ListValueNode) else (group,)
        groups.append([i.value for i in items if isinstance(i, StringValueNode)])
    return groups


_LOCATIONS: tuple[tuple[tuple[type, ...], str], ...] = (
    ((FieldDefinitionNode,), "FIELD_DEFINITION"),
    ((ObjectTypeDefinitionNode, ObjectTypeExtensionNode), "OBJECT"),
    ((InterfaceTypeDefinitionNode, InterfaceTypeExtensionNode), "INTERFACE"),
    ((UnionTypeDefinitionNode, UnionTypeExtensionNode), "UNION"),
    ((EnumTypeDefinitionNode, EnumTypeExtensionNode), "ENUM"),
    ((EnumValueDefinitionNode,), "ENUM_VALUE"),
    ((InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode), "INPUT_OBJECT"),
    ((ScalarTypeDefinitionNode, ScalarTypeExtensionNode), "SCALAR"),
    ((SchemaDefinitionNode, SchemaExtensionNode), "SCHEMA"),
)
BUILT_IN_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf", "include", "skip", "link"})


class _Reader:
    def __init__(
        self,
        name: str,
        names: FederationNames,
        defined: set[str],
        composed: dict[str, ComposedDirective],
        log: ErrorLog,
    ) -> None:
        self.name = name
        self.names = names
        self.defined = defined  # directives the SDL defines itself
        self.composed = composed  # those of them it composes (@composeDirective)
        self.log = log
        self.type_name = ""  # the type whose block is being read
        self.in_input_type = False  # that type is an input object
        self._seen: dict[int, list[tuple[str, ConstDirectiveNode]]] = {}

    def directives(self, node: object) -> list[tuple[str, ConstDirectiveNode]]:
        """(canonical name, node) of the federation and standard directives on `node`."""
        if id(node) not in self._seen:
            self._seen[id(node)] = self._read_directives(node)
        return self._seen[id(node)]

    def _read_directives(self, node: object) -> list[tuple[str, ConstDirectiveNode]]:
        out = []
        for directive in getattr(node, "directives", None) or ():
            canonical = self.names.canonical(directive)
            if canonical is not None:
                site = Site(self.name, self._where(node), self._location(node))
                check_arguments(canonical, directive, self.names.version, site, self.log)
                out.append((canonical, directive))
            elif directive.name.value in {"deprecated", "specifiedBy", "oneOf"}:
                out.append((directive.name.value, directive))
            elif directive.name.value not in BUILT_IN_DIRECTIVES | self.defined:
                self._unknown(directive.name.value, node)
        federation = [(n, d) for n, d in out if n not in {"deprecated", "specifiedBy", "oneOf"}]
        check_repeated(federation, self.names.version, self._where(node), self.name, self.log)
        return out

    def _where(self, node: object) -> str | None:
        name = getattr(getattr(node, "name", None), "value", None)
        if isinstance(node, FieldDefinitionNode | EnumValueDefinitionNode) and self.type_name:
            return f"{self.type_name}.{name}"
        return name

    def _location(self, node: object) -> str | None:
        """The directive location `node` is (None: one the checks leave alone)."""
        if isinstance(node, InputValueDefinitionNode):
            return "INPUT_FIELD_DEFINITION" if self.in_input_type else "ARGUMENT_DEFINITION"
        return next((loc for kind, loc in _LOCATIONS if isinstance(node, kind)), None)

    def _unknown(self, directive: str, node: object) -> None:
        hint = f"define @{directive} in the subgraph's schema, or remove it."
        if directive in FEDERATION_DIRECTIVES and self.names.version[0] == 2:
            hint = (
                f"add @{directive} to the import list of the federation @link, or write "
                f"@federation__{directive}."
            )
        self.log.add(
            "INVALID_GRAPHQL",
            f'Unknown directive "@{directive}".',
            subgraphs=[self.name],
            coordinate=getattr(getattr(node, "name", None), "value", None),
            hint=hint,
        )

    def element(self, node: object, element: Element) -> None:
        description = getattr(node, "description", None)
        if description is not None and element.description is None:
            element.description = description.value
        if self.composed:
            for applied in read_applied(self.name, self.composed, node, self.log):
                if applied not in element.applied:
                    element.applied.append(applied)
        for name, directive in self.directives(node):
            if name == "deprecated":
                element.deprecated = _str_arg(directive, "reason") or "No longer supported"
            elif name == "inaccessible":
                element.inaccessible = True
            elif name == "tag":
                tag = _str_arg(directive, "name")
                if tag and tag not in element.tags:
                    element.tags.append(tag)
            elif name == "authenticated":
                element.access.merge(Access(authenticated=True))
            elif name == "requiresScopes":
                element.access.merge(Access(scopes=_groups(directive, "scopes")))
            elif name == "policy":
                element.access.merge(Access(policies=_groups(directive, "policies")))
            elif name == "cacheTag":
                tag = _str_arg(directive, "format")
                if tag is not None and tag not in element.cache_tags:
                    element.cache_tags.append(tag)
            elif name == "cost":
                weight = read_cost(directive)
                if weight is not None:
                    element.cost = weight if element.cost is None else max(element.cost, weight)

    def field_set(
        self, directive: ConstDirectiveNode, name: str, where: str, type_name: str = ""
    ) -> str:
        """The `fields:` of a @key / @requires / @provides; a value that is not a string is
        refused ({NAME}_INVALID_FIELDS_TYPE) and read as an empty set."""
        fields = _str_arg(directive, "fields")
        value = _args(directive).get("fields")
        if fields is None and value is not None:
            self.log.add(
                f"{name.upper()}_INVALID_FIELDS_TYPE",
                f"{where.format(type_name or self.type_name)}, for @{name}(fields: "
                f'{print_ast(value)}): Invalid value for argument "fields": must be a string.',  # type: ignore[arg-type]
                subgraphs=[self.name],
                coordinate=type_name or self.type_name,
                hint=f'quote the field set: @{name}(fields: "id").',
            )
        return fields or ""

    def input_value(self, node: InputValueDefinitionNode) -> InputValue:
        value = InputValue(
            name=node.name.value,
            type=print_ast(node.type),
            default=print_ast(node.default_value) if node.default_value is not None else None,
        )
        self.element(node, value)
        for name, directive in self.directives(node):
            if name == "fromContext":
                value.from_context = _str_arg(directive, "field") or ""
        return value

    def field(
        self, node: FieldDefinitionNode, *, in_extension: bool, block_flags: set[str]
    ) -> Field:
        field = Field(name=node.name.value, type=print_ast(node.type), in_extension=in_extension)
        field.args = {a.name.value: self.input_value(a) for a in node.arguments or ()}
        self.element(node, field)
        field.external = "external" in block_flags
        field.shareable = "shareable" in block_flags
        for name, directive in self.directives(node):
            if name == "external":
                field.external = True
            elif name == "shareable":
                field.shareable = True
            elif name in ("requires", "provides"):
                fields = self.field_set(directive, name, f'On field "{{}}.{field.name}"')
                if name == "requires":
                    field.requires = fields
                else:
                    field.provides = fields
            elif name == "override":
                field.override = _str_arg(directive, "from")
                field.override_label = _str_arg(directive, "label")
            elif name == "listSize":
                field.list_size = read_list_size(directive)
        return field

    def block(self, node: TypeDefinitionNode | TypeExtensionNode, type_def: TypeDef) -> None:
        self.type_name = type_def.name
        self.in_input_type = type_def.kind == Kind.INPUT_OBJECT
        is_extension = isinstance(node, TypeExtensionNode)
        flags = {name for name, _ in self.directives(node)}
        type_def.extended |= is_extension or "extends" in flags
        type_def.extends_directive |= "extends" in flags
        type_def.has_definition |= not is_extension
        self.element(node, type_def)
        for name, directive in self.directives(node):
            if name == "key":
                fields = self.field_set(directive, name, 'On type "{}"', type_def.name)
                type_def.keys.append(Key(fields, _bool_arg(directive, "resolvable", True)))
            elif name == "shareable":
                type_def.shareable = True
            elif name == "interfaceObject":
                type_def.interface_object = True
                type_def.kind = Kind.INTERFACE
            elif name == "specifiedBy":
                type_def.specified_by = _str_arg(directive, "url")
            elif name == "oneOf":
                type_def.one_of = True
            elif name == "context":
                context = _str_arg(directive, "name") or ""
                if context not in type_def.contexts:
                    type_def.contexts.append(context)
        for interface in getattr(node, "interfaces", None) or ():
            if interface.name.value not in type_def.interfaces:
                type_def.interfaces.append(interface.name.value)
        in_extension = is_extension or "extends" in flags
        if self.names.version[0] == 1 and (
            not is_extension or type_def.name in ROOT_NAMES.values()
        ):
            flags.add("shareable")  # Federation 1: fields of a type's own definition are shared
        for fnode in getattr(node, "fields", None) or ():
            if isinstance(fnode, FieldDefinitionNode):
                if fnode.name.value in FEDERATION_ROOT_FIELDS and type_def.name == "Query":
                    continue
                self._add_field(
                    type_def, self.field(fnode, in_extension=in_extension, block_flags=flags)
                )
            elif isinstance(fnode, InputValueDefinitionNode):
                type_def.input_fields[fnode.name.value] = self.input_value(fnode)
        for member in getattr(node, "types", None) or ():
            if member.name.value not in type_def.members:
                type_def.members.append(member.name.value)
        for vnode in getattr(node, "values", None) or ():
            value = EnumValue(name=vnode.name.value)
            self.element(vnode, value)
            type_def.values[value.name] = value

    def _add_field(self, type_def: TypeDef, field: Field) -> None:
        if field.name in type_def.fields:
            self.log.add(
                "INVALID_GRAPHQL",
                f'Field "{type_def.name}.{field.name}" is defined more than once.',
                subgraphs=[self.name],
                coordinate=f"{type_def.name}.{field.name}",
                hint="keep one definition of the field.",
            )
        type_def.fields[field.name] = field


def read_subgraph(name: str, url: str, sdl: str, log: ErrorLog) -> Subgraph | None:
    """The subgraph, or None after logging why it cannot be read at all."""
    try:
        doc = parse(sdl)
    except GraphQLSyntaxError as exc:
        log.add(
            "INVALID_GRAPHQL",
            f"the SDL does not parse: {exc.message} at {exc.locations}",
            subgraphs=[name],
            hint="fix the syntax of the subgraph's schema.",
        )
        return None
    try:
        names = federation_names(doc)
    except LinkError as exc:
        log.add(
            exc.code,
            str(exc),
            subgraphs=[name],
            coordinate="@link",
            hint="link a federation version from v2.0 to v2.12 and import only the directives "
            'it defines, e.g. @link(url: "https://specs.apollo.dev/federation/v2.9", '
            'import: ["@key", "@cost"]).',
        )
        return None
    subgraph = Subgraph(name, url, graph_id(name), names.version)
    renames = _root_renames(doc)
    _check_default_root_names_unused(name, doc, renames, log)
    subgraph.root_types = {op: ROOT_NAMES[op] for op in ROOT_NAMES}
    defined = {d.name.value for d in doc.definitions if isinstance(d, DirectiveDefinitionNode)}
    check_directive_definitions(name, names, doc.definitions, log)
    subgraph.composed = read_composed_directives(name, doc, names, log)
    subgraph.executable_directives = read_executable_directives(
        doc, set(names.by_local_name) | set(subgraph.composed)
    )
    reader = _Reader(name, names, defined, subgraph.composed, log)
    for definition in doc.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            reader.directives(definition)  # unknown directives on the schema are errors
    for definition in doc.definitions:
        kind = _KINDS.get(type(definition))
        if kind is None:
            continue
        assert isinstance(definition, TypeDefinitionNode | TypeExtensionNode)
        type_name = renames.get(definition.name.value, definition.name.value)
        if type_name in FEDERATION_TYPES | names.types or type_name.startswith(
            ("federation__", "link__")
        ):
            continue
        type_def = subgraph.types.get(type_name)
        if type_def is None:
            type_def = subgraph.types[type_name] = TypeDef(name=type_name, kind=kind)
        elif type_def.kind != kind and not (type_def.interface_object and kind == Kind.OBJECT):
            log.add(
                "INVALID_GRAPHQL",
                f'"{type_name}" is declared both as {type_def.kind.value} and as {kind.value}.',
                subgraphs=[name],
                coordinate=type_name,
                hint="declare and extend the type as the same kind.",
            )
            continue
        reader.block(definition, type_def)
    if renames:
        _rename_references(subgraph, renames)
    for root in ROOT_NAMES.values():
        root_type = subgraph.types.get(root)
        if root_type is not None and not root_type.fields:
            del subgraph.types[root]  # only the federation fields: nothing to compose
    return subgraph


def _root_renames(doc: object) -> dict[str, str]:
    renames: dict[str, str] = {}
    for definition in getattr(doc, "definitions", ()):
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                canonical = ROOT_NAMES[op.operation.value]
                if op.type.name.value != canonical:
                    renames[op.type.name.value] = canonical
    return renames


def _check_default_root_names_unused(
    name: str, doc: DocumentNode, renames: dict[str, str], log: ErrorLog
) -> None:
    """A root type with another name leaves its default name unused (ROOT_QUERY_USED, ...):
    a type `Query` beside `schema { query: Root }` would be ambiguous."""
    declared = {
        d.name.value
        for d in doc.definitions
        if isinstance(d, TypeDefinitionNode | TypeExtensionNode)
    }
    for original, canonical in renames.items():
        if canonical not in declared or canonical in renames:
            continue
        op = next(op for op, default in ROOT_NAMES.items() if default == canonical)
        log.add(
            f"ROOT_{op.upper()}_USED",
            f'The schema has a type named "{canonical}" but it is not set as the {op} root type '
            f'("{original}" is instead): this is not supported by federation. If a root type '
            "does not use its default name, there should be no other type with that default name.",
            subgraphs=[name],
            coordinate=canonical,
            hint=f'rename the type "{canonical}", or make it the {op} root type.',
        )


def _rename_type_string(type_string: str, renames: dict[str, str]) -> str:
    named = type_string.strip("[]!")
    if named not in renames:
        return type_string
    return type_string.replace(named, renames[named])


def _rename_references(subgraph: Subgraph, renames: dict[str, str]) -> None:
    for type_def in subgraph.types.values():
        for field in type_def.fields.values():
            field.type = _rename_type_string(field.type, renames)
        type_def.members = [renames.get(m, m) for m in type_def.members]


def read_subgraphs(sources: Sequence[tuple[str, str, str]], log: ErrorLog) -> list[Subgraph]:
    """(name, url, sdl) -> subgraphs, sorted by their join__Graph value like the ecosystem does."""
    out = []
    seen: dict[str, str] = {}
    for name, url, sdl in sources:
        subgraph = read_subgraph(name, url, sdl, log)
        if subgraph is None:
            continue
        if subgraph.graph_id in seen:
            log.add(
                "INVALID_SUBGRAPH_NAME",
                f'subgraphs "{seen[subgraph.graph_id]}" and "{name}" have the same graph name '
                f"{subgraph.graph_id} in the supergraph.",
                subgraphs=[seen[subgraph.graph_id], name],
                hint="give one of them a name that differs in more than case or punctuation.",
            )
            continue
        seen[subgraph.graph_id] = name
        out.append(subgraph)
    return sorted(out, key=lambda s: s.graph_id)
