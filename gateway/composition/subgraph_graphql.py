"""Plain GraphQL validity of one subgraph (unknown types, interfaces implemented correctly, ...),
checked by graphql-core on the subgraph's types without federation directives."""

from __future__ import annotations

import json
import re

from graphql import GraphQLError, GraphQLSyntaxError, build_ast_schema, parse, validate_schema

from gateway.composition.errors import ErrorLog
from gateway.composition.subgraph_model import Element, InputValue, Kind, Subgraph, TypeDef


def _deprecated(element: Element) -> str:
    if element.deprecated is None:
        return ""
    return f" @deprecated(reason: {json.dumps(element.deprecated)})"


def _value(value: InputValue) -> str:
    default = f" = {value.default}" if value.default is not None else ""
    return f"{value.name}: {value.type}{default}{_deprecated(value)}"


def _args(args: dict[str, InputValue]) -> str:
    return f"({', '.join(_value(a) for a in args.values())})" if args else ""


def _render(type_def: TypeDef) -> str:
    name = type_def.name
    if type_def.kind in (Kind.OBJECT, Kind.INTERFACE):
        keyword = (
            "interface"
            if type_def.kind == Kind.INTERFACE and not type_def.interface_object
            else "type"
        )
        implements = f" implements {' & '.join(type_def.interfaces)}" if type_def.interfaces else ""
        fields = "\n".join(
            f"  {f.name}{_args(f.args)}: {f.type}{_deprecated(f)}" for f in type_def.fields.values()
        )
        return f"{keyword} {name}{implements} {{\n{fields}\n}}"
    if type_def.kind == Kind.UNION:
        return f"union {name} = {' | '.join(type_def.members)}"
    if type_def.kind == Kind.ENUM:
        values = " ".join(v.name + _deprecated(v) for v in type_def.values.values())
        return f"enum {name} {{ {values} }}"
    if type_def.kind == Kind.INPUT_OBJECT:
        fields = "\n".join(f"  {_value(f)}" for f in type_def.input_fields.values())
        return f"input {name} {{\n{fields}\n}}"
    return f"scalar {name}"


def plain_sdl(subgraph: Subgraph) -> str:
    return "\n\n".join(_render(t) for t in subgraph.types.values())


def relevant(error: GraphQLError) -> bool:
    """Errors of the GraphQL spec (October 2021), which composition enforces. Not: a missing
    Query (a subgraph may have none) and graphql-core's draft rule that an implementation's
    field may only be deprecated where the interface's is."""
    return not any(
        text in error.message
        for text in ("Query root type must be provided", "must not be deprecated")
    )


def check_graphql(subgraph: Subgraph, log: ErrorLog) -> None:
    if not subgraph.types:
        return  # a subgraph may declare nothing (yet)
    try:
        schema = build_ast_schema(
            parse(plain_sdl(subgraph), no_location=True), assume_valid_sdl=True
        )
        errors = [e for e in validate_schema(schema) if relevant(e)]
    except GraphQLSyntaxError as exc:
        errors = [exc]
    except (GraphQLError, TypeError) as exc:
        errors = [GraphQLError(str(exc))]
    for error in errors:
        log.add(
            "INVALID_GRAPHQL",
            error.message,
            subgraphs=[subgraph.name],
            coordinate=_coordinate(subgraph, error.message),
            hint="make the subgraph's schema valid GraphQL.",
        )


def _coordinate(subgraph: Subgraph, message: str) -> str | None:
    """The first of the subgraph's types (or fields, `Type.field`) the message names."""
    for match in re.finditer(r"[_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*)?", message):
        type_name = match.group().split(".")[0]
        if type_name in subgraph.types:
            return match.group()
    return None
