"""The API schema: the supergraph as clients see it, without federation machinery and without
anything marked @inaccessible."""

from __future__ import annotations

from graphql import (
    ConstDirectiveNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
)

from gateway.schema.link_names import LinkNames

# Directives a client may see in the API schema, with the composed ones (@composeDirective);
# every other applied directive is federation metadata and is stripped.
_API_DIRECTIVES = {"deprecated", "specifiedBy", "oneOf"}


def _is_inaccessible(node: object, names: LinkNames) -> bool:
    return any(d.name.value == names.inaccessible for d in getattr(node, "directives", None) or ())


def _strip(node: object, names: LinkNames) -> tuple[ConstDirectiveNode, ...]:
    return tuple(
        d
        for d in getattr(node, "directives", None) or ()
        if d.name.value in _API_DIRECTIVES or d.name.value in names.composed
    )


def api_document(doc: DocumentNode, names: LinkNames) -> DocumentNode:
    """The client-facing schema: no federation machinery, nothing @inaccessible."""
    prefixes = tuple(f"{spec}__" for spec in names.link_specs | {"link", "join", names.join})
    hidden_types = {
        d.name.value
        for d in doc.definitions
        if isinstance(d, TypeDefinitionNode)
        and (d.name.value.startswith(prefixes) or _is_inaccessible(d, names))
    }
    definitions: list[DefinitionNode] = []
    for definition in doc.definitions:
        if (
            isinstance(definition, DirectiveDefinitionNode)
            and definition.name.value in names.composed
        ):
            definitions.append(definition)  # a composed directive: clients see it
            continue
        if isinstance(definition, DirectiveDefinitionNode | SchemaDefinitionNode):
            if isinstance(definition, SchemaDefinitionNode):
                definitions.append(
                    definition.__class__(operation_types=definition.operation_types, directives=())
                )
            continue
        if not isinstance(definition, TypeDefinitionNode) or definition.name.value in hidden_types:
            continue
        definitions.append(_api_type(definition, names, hidden_types))
    return DocumentNode(definitions=tuple(definitions))


def _visible_type(type_node: object, hidden: set[str]) -> bool:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type  # type: ignore[attr-defined]
    return type_node.name.value not in hidden


def _api_type(
    definition: TypeDefinitionNode, names: LinkNames, hidden: set[str]
) -> TypeDefinitionNode:
    kw: dict[str, object] = {
        "name": definition.name,
        "description": definition.description,
        "directives": _strip(definition, names),
    }
    if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        kw["interfaces"] = tuple(
            i for i in definition.interfaces or () if i.name.value not in hidden
        )
        kw["fields"] = tuple(
            _api_field(f, names, hidden)
            for f in definition.fields or ()
            if not _is_inaccessible(f, names) and _visible_type(f.type, hidden)
        )
    elif isinstance(definition, UnionTypeDefinitionNode):
        kw["types"] = tuple(t for t in definition.types or () if t.name.value not in hidden)
    elif isinstance(definition, EnumTypeDefinitionNode):
        kw["values"] = tuple(
            v.__class__(name=v.name, description=v.description, directives=_strip(v, names))
            for v in definition.values or ()
            if not _is_inaccessible(v, names)
        )
    elif isinstance(definition, InputObjectTypeDefinitionNode):
        kw["fields"] = tuple(
            f.__class__(
                name=f.name,
                description=f.description,
                type=f.type,
                default_value=f.default_value,
                directives=_strip(f, names),
            )
            for f in definition.fields or ()
            if not _is_inaccessible(f, names)
        )
    elif isinstance(definition, ScalarTypeDefinitionNode):
        pass
    return definition.__class__(**kw)  # type: ignore[arg-type]


def _api_field(
    fdef: FieldDefinitionNode, names: LinkNames, hidden: set[str]
) -> FieldDefinitionNode:
    return FieldDefinitionNode(
        name=fdef.name,
        description=fdef.description,
        type=fdef.type,
        directives=_strip(fdef, names),
        arguments=tuple(
            a.__class__(
                name=a.name,
                description=a.description,
                type=a.type,
                default_value=a.default_value,
                directives=_strip(a, names),
            )
            for a in fdef.arguments or ()
            if not _is_inaccessible(a, names)
        ),
    )
