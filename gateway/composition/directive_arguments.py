"""A federation directive application, checked against the directive's definition in the
linked spec version: a location it may not be used on (`@key` on a field), an argument the
version does not define (`label:` of @override before v2.7), a required one left out, or a value
of the wrong type (`@tag(name: 5)`) makes the subgraph invalid GraphQL, as in the reference
composers."""

from __future__ import annotations

from typing import NamedTuple

from graphql import (
    ConstDirectiveNode,
    GraphQLBoolean,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
    Undefined,
    value_from_ast,
)

from gateway.composition.errors import ErrorLog

_STRING_GROUPS = GraphQLNonNull(
    GraphQLList(GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString))))
)
_STRINGS = GraphQLList(GraphQLNonNull(GraphQLString))

# directive -> argument -> (type, spec version that introduced it). `fields:` of @key, @requires
# and @provides is checked where it is read (KEY_INVALID_FIELDS_TYPE and the like); custom scalars
# (federation__Scope, federation__Policy, ContextFieldValue) take strings.
_ARGUMENTS: dict[str, dict[str, tuple[GraphQLInputType | None, tuple[int, int]]]] = {
    "key": {"fields": (None, (1, 0)), "resolvable": (GraphQLBoolean, (2, 0))},
    "requires": {"fields": (None, (1, 0))},
    "provides": {"fields": (None, (1, 0))},
    "external": {"reason": (GraphQLString, (1, 0))},
    "extends": {},
    "shareable": {},
    "inaccessible": {},
    "interfaceObject": {},
    "authenticated": {},
    "override": {
        "from": (GraphQLNonNull(GraphQLString), (2, 0)),
        "label": (GraphQLString, (2, 7)),
    },
    "tag": {"name": (GraphQLNonNull(GraphQLString), (1, 0))},
    "composeDirective": {"name": (GraphQLNonNull(GraphQLString), (2, 1))},
    "requiresScopes": {"scopes": (_STRING_GROUPS, (2, 5))},
    "policy": {"policies": (_STRING_GROUPS, (2, 6))},
    "context": {"name": (GraphQLNonNull(GraphQLString), (2, 8))},
    "fromContext": {"field": (GraphQLString, (2, 8))},
    "cost": {"weight": (GraphQLNonNull(GraphQLInt), (2, 9))},
    "listSize": {
        "assumedSize": (GraphQLInt, (2, 9)),
        "slicingArguments": (_STRINGS, (2, 9)),
        "sizedFields": (_STRINGS, (2, 9)),
        "requireOneSlicingArgument": (GraphQLBoolean, (2, 9)),
    },
    "cacheTag": {"format": (GraphQLNonNull(GraphQLString), (2, 12))},
}

_ACCESS = frozenset({"FIELD_DEFINITION", "OBJECT", "INTERFACE", "SCALAR", "ENUM"})
_ELEMENTS = frozenset(
    {
        "FIELD_DEFINITION",
        "OBJECT",
        "INTERFACE",
        "UNION",
        "ARGUMENT_DEFINITION",
        "SCALAR",
        "ENUM",
        "ENUM_VALUE",
        "INPUT_OBJECT",
        "INPUT_FIELD_DEFINITION",
    }
)
# directive -> the locations its definition allows (@cacheTag is left to its own checks)
_LOCATIONS: dict[str, frozenset[str]] = {
    "key": frozenset({"OBJECT", "INTERFACE"}),
    "requires": frozenset({"FIELD_DEFINITION"}),
    "provides": frozenset({"FIELD_DEFINITION"}),
    "external": frozenset({"OBJECT", "FIELD_DEFINITION"}),
    "extends": frozenset({"OBJECT", "INTERFACE"}),
    "shareable": frozenset({"OBJECT", "FIELD_DEFINITION"}),
    "inaccessible": _ELEMENTS,
    "tag": _ELEMENTS | {"SCHEMA"},
    "override": frozenset({"FIELD_DEFINITION"}),
    "composeDirective": frozenset({"SCHEMA"}),
    "interfaceObject": frozenset({"OBJECT"}),
    "authenticated": _ACCESS,
    "requiresScopes": _ACCESS,
    "policy": _ACCESS,
    "context": frozenset({"INTERFACE", "OBJECT", "UNION"}),
    "fromContext": frozenset({"ARGUMENT_DEFINITION"}),
    "cost": frozenset(
        {
            "ARGUMENT_DEFINITION",
            "ENUM",
            "FIELD_DEFINITION",
            "INPUT_FIELD_DEFINITION",
            "OBJECT",
            "SCALAR",
        }
    ),
    "listSize": frozenset({"FIELD_DEFINITION"}),
}


# directive -> the version from which it is repeatable (the others never are)
_REPEATABLE: dict[str, tuple[int, int]] = {
    "key": (1, 0),
    "tag": (1, 0),
    "shareable": (2, 2),
    "composeDirective": (2, 1),
    "context": (2, 8),
    "cacheTag": (2, 12),
}


def check_repeated(
    canonical: list[tuple[str, ConstDirectiveNode]],
    version: tuple[int, int],
    where: str | None,
    subgraph: str,
    log: ErrorLog,
) -> None:
    """Log INVALID_GRAPHQL for a federation directive applied twice to one element where its
    definition in `version` is not repeatable."""
    seen: set[str] = set()
    for name, directive in canonical:
        if name in seen and not (name in _REPEATABLE and _REPEATABLE[name] <= version):
            log.add(
                "INVALID_GRAPHQL",
                f'The directive "@{directive.name.value}" can only be used once at this location.',
                subgraphs=[subgraph],
                coordinate=where,
                hint=f"apply @{directive.name.value} once to {where}.",
            )
        seen.add(name)


class Site(NamedTuple):
    """Where a directive is applied: the subgraph, the element's coordinate, its location."""

    subgraph: str
    where: str | None
    location: str | None


def check_arguments(
    canonical: str,
    directive: ConstDirectiveNode,
    version: tuple[int, int],
    site: Site,
    log: ErrorLog,
) -> None:
    """Log INVALID_GRAPHQL when `directive` (the federation directive `canonical`) is used at
    `site` or with arguments its definition in `version` does not allow."""
    subgraph, where, location = site
    local = directive.name.value
    allowed = _LOCATIONS.get(canonical)
    if location is not None and allowed is not None and location not in allowed:
        log.add(
            "INVALID_GRAPHQL",
            f'Directive "@{local}" may not be used on {location}.',
            subgraphs=[subgraph],
            coordinate=where,
            hint=f"remove @{local} from {where}.",
        )
    spec = _ARGUMENTS.get(canonical)
    if spec is None:
        return
    known = {name: t for name, (t, since) in spec.items() if since <= version or version[0] == 1}
    given = {a.name.value: a.value for a in directive.arguments or ()}
    for name, value in given.items():
        if name not in known:
            log.add(
                "INVALID_GRAPHQL",
                f'Unknown argument "{name}" on directive "@{local}".',
                subgraphs=[subgraph],
                coordinate=where,
                hint=f"remove {name}: from @{local}, or link a federation version that defines it.",
            )
            continue
        arg_type = known[name]
        if arg_type is not None and value_from_ast(value, arg_type) is Undefined:
            log.add(
                "INVALID_GRAPHQL",
                f'Invalid value for "@{local}({name}:)" of type "{arg_type}" in application of '
                f'"@{local}" to "{where}".',
                subgraphs=[subgraph],
                coordinate=where,
                hint=f"give {name}: a value of type {arg_type}.",
            )
    for name, arg_type in known.items():
        if isinstance(arg_type, GraphQLNonNull) and name not in given:
            log.add(
                "INVALID_GRAPHQL",
                f'Directive "@{local}" argument "{name}" of type "{arg_type}" is required, but '
                "it was not provided.",
                subgraphs=[subgraph],
                coordinate=where,
                hint=f"give @{local} its {name}: argument.",
            )
