"""A subgraph SDL made executable by graphql-core: the federation directives declared, and
`_entities(representations:)` over the types with a `@key`. Only used to compute an answer the
first time a request body is seen (`bench.subgraph_server` keeps it), so its speed is no concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaExtensionNode,
    build_ast_schema,
    graphql_sync,
    parse,
)

PRELUDE = """
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @external on FIELD_DEFINITION | OBJECT
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
scalar FieldSet
scalar _Any
"""

Resolved = dict[str, Any]


def field_resolver(source: Any, info: Any, **args: Any) -> Any:
    """A field of a dict; a callable value is called with the field's arguments."""
    value = source.get(info.field_name) if isinstance(source, dict) else None
    return value(**args) if callable(value) else value


def executable_schema(sdl: str) -> GraphQLSchema:
    document = parse(sdl)
    definitions = [d for d in document.definitions if not isinstance(d, SchemaExtensionNode)]
    entities = [
        d.name.value
        for d in definitions
        if isinstance(d, ObjectTypeDefinitionNode | ObjectTypeExtensionNode)
        and any(directive.name.value == "key" for directive in d.directives or ())
    ]
    has_query = any(
        isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Query" for d in definitions
    )
    entities_field = "_entities(representations: [_Any!]!): [_Entity]!"
    extra = f"union _Entity = {' | '.join(entities)}\n"
    extra += f"{'extend type' if has_query else 'type'} Query {{ {entities_field} }}\n"
    base = parse(PRELUDE + extra)
    combined = DocumentNode(definitions=(*base.definitions, *definitions))
    return build_ast_schema(combined)


def executor(sdl: str, root: Resolved) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Answers one GraphQL request body (already parsed JSON) with `root` as the root value."""
    schema = executable_schema(sdl)

    def execute(request: dict[str, Any]) -> dict[str, Any]:
        result = graphql_sync(
            schema,
            request.get("query", ""),
            root_value=root,
            variable_values=request.get("variables"),
            operation_name=request.get("operationName"),
            field_resolver=field_resolver,
        )
        return result.formatted

    return execute
