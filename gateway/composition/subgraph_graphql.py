"""Plain GraphQL validity of one subgraph (unknown types, interfaces implemented correctly, ...),
checked by graphql-core on the subgraph's types without federation directives."""

from __future__ import annotations

from graphql import GraphQLError, GraphQLSyntaxError, build_ast_schema, parse, validate_schema

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import InputValue, Kind, Subgraph, TypeDef


def _args(args: dict[str, InputValue]) -> str:
    if not args:
        return ""
    inner = ", ".join(
        f"{a.name}: {a.type}" + (f" = {a.default}" if a.default is not None else "")
        for a in args.values()
    )
    return f"({inner})"


def _render(type_def: TypeDef) -> str:
    name = type_def.name
    if type_def.kind in (Kind.OBJECT, Kind.INTERFACE):
        keyword = (
            "interface"
            if type_def.kind == Kind.INTERFACE and not type_def.interface_object
            else "type"
        )
        implements = f" implements {' & '.join(type_def.interfaces)}" if type_def.interfaces else ""
        fields = "\n".join(f"  {f.name}{_args(f.args)}: {f.type}" for f in type_def.fields.values())
        return f"{keyword} {name}{implements} {{\n{fields}\n}}"
    if type_def.kind == Kind.UNION:
        return f"union {name} = {' | '.join(type_def.members)}"
    if type_def.kind == Kind.ENUM:
        return f"enum {name} {{ {' '.join(type_def.values)} }}"
    if type_def.kind == Kind.INPUT_OBJECT:
        fields = "\n".join(
            f"  {f.name}: {f.type}" + (f" = {f.default}" if f.default is not None else "")
            for f in type_def.input_fields.values()
        )
        return f"input {name} {{\n{fields}\n}}"
    return f"scalar {name}"


def plain_sdl(subgraph: Subgraph) -> str:
    return "\n\n".join(_render(t) for t in subgraph.types.values())


def _relevant(error: GraphQLError) -> bool:
    return "Query root type must be provided" not in error.message


def check_graphql(subgraph: Subgraph, log: ErrorLog) -> None:
    try:
        schema = build_ast_schema(parse(plain_sdl(subgraph)), assume_valid_sdl=False)
        errors = [e for e in validate_schema(schema) if _relevant(e)]
    except GraphQLSyntaxError as exc:
        errors = [exc]
    except (GraphQLError, TypeError) as exc:
        errors = [GraphQLError(str(exc))]
    for error in errors:
        log.add(
            "INVALID_GRAPHQL",
            error.message,
            subgraphs=[subgraph.name],
            hint="make the subgraph's schema valid GraphQL.",
        )
