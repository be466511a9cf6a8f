"""@cost and @listSize (Federation 2.9, the `cost` spec): what demand control needs to estimate
an operation's cost, carried into the supergraph.

Across subgraphs a @cost takes the highest weight; a @listSize the highest assumed size, every
slicing argument and sized field any subgraph names, and requires one slicing argument only if
no subgraph says otherwise (the merge rules of the reference composers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    IntValueNode,
    ListValueNode,
    StringValueNode,
)

from gateway.composition.errors import ErrorLog
from gateway.composition.field_sets import is_leaf, named_type
from gateway.composition.subgraph_model import Field, Kind, Subgraph, TypeDef

COST_LINK = "https://specs.apollo.dev/cost/v0.1"
COST_DEFINITION = (
    "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | "
    "INPUT_FIELD_DEFINITION | OBJECT | SCALAR"
)
LIST_SIZE_DEFINITION = (
    "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], "
    "requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION"
)


@dataclass(slots=True)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: list[str] | None = None
    sized_fields: list[str] | None = None
    require_one: bool | None = None  # None: not given (the definition's default is true)

    def merge(self, other: ListSize) -> None:
        if other.assumed_size is not None:
            current = self.assumed_size
            self.assumed_size = (
                other.assumed_size if current is None else max(current, other.assumed_size)
            )
        self.slicing_arguments = _union(self.slicing_arguments, other.slicing_arguments)
        self.sized_fields = _union(self.sized_fields, other.sized_fields)
        if other.require_one is not None:
            self.require_one = other.require_one and self.require_one is not False

    def printed(self) -> str:
        args = []
        if self.assumed_size is not None:
            args.append(f"assumedSize: {self.assumed_size}")
        for name, values in (
            ("slicingArguments", self.slicing_arguments),
            ("sizedFields", self.sized_fields),
        ):
            if values is not None:
                args.append(f"{name}: [{', '.join(json.dumps(v) for v in values)}]")
        if self.require_one is not None:
            args.append(f"requireOneSlicingArgument: {'true' if self.require_one else 'false'}")
        return f"@listSize({', '.join(args)})" if args else "@listSize"


def _union(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    if a is None or b is None:
        return a if b is None else list(b) if a is None else a
    return a + [v for v in b if v not in a]


def _strings(value: object) -> list[str] | None:
    if isinstance(value, ListValueNode):
        return [v.value for v in value.values if isinstance(v, StringValueNode)]
    if isinstance(value, StringValueNode):  # a single value coerces to a list of one
        return [value.value]
    return None


def read_cost(directive: ConstDirectiveNode) -> int | None:
    for arg in directive.arguments or ():
        if arg.name.value == "weight" and isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
    return None


def read_list_size(directive: ConstDirectiveNode) -> ListSize:
    args = {a.name.value: a.value for a in directive.arguments or ()}
    assumed = args.get("assumedSize")
    require = args.get("requireOneSlicingArgument")
    return ListSize(
        int(assumed.value) if isinstance(assumed, IntValueNode) else None,
        _strings(args.get("slicingArguments")),
        _strings(args.get("sizedFields")),
        require.value if isinstance(require, BooleanValueNode) else None,
    )


def check_demand_control(subgraph: Subgraph, type_def: TypeDef, log: ErrorLog) -> None:
    """@cost only where it means something, @listSize pointing at real arguments and fields."""
    for f in type_def.fields.values():
        coordinate = f"{type_def.name}.{f.name}"
        if f.cost is not None and type_def.kind == Kind.INTERFACE and not type_def.interface_object:
            log.add(
                "COST_APPLIED_TO_INTERFACE_FIELD",
                f'@cost cannot be applied to interface "{coordinate}".',
                subgraphs=[subgraph.name],
                coordinate=coordinate,
                hint="put @cost on the fields of the implementing types.",
            )
        if f.list_size is not None:
            _check_list_size(subgraph, coordinate, f, f.list_size, log)


def _check_list_size(
    subgraph: Subgraph, coordinate: str, f: Field, size: ListSize, log: ErrorLog
) -> None:
    def error(code: str, message: str, hint: str) -> None:
        log.add(code, message, subgraphs=[subgraph.name], coordinate=coordinate, hint=hint)

    if size.assumed_size is not None and size.assumed_size < 0:
        error(
            "LIST_SIZE_INVALID_ASSUMED_SIZE",
            f'"{coordinate}" has negative @listSize(assumedSize:) value.',
            "give the number of items to assume, 0 or more.",
        )
    for name in size.slicing_arguments or ():
        arg = f.args.get(name)
        if arg is None or arg.type not in ("Int", "Int!"):
            what = "that does not exist" if arg is None else "that is not an integer"
            error(
                "LIST_SIZE_INVALID_SLICING_ARGUMENT",
                f'"{coordinate}" references "{name}" argument in @listSize(slicingArguments:) '
                f"{what}.",
                "name arguments of the field of type Int (such as first or last).",
            )
    target = subgraph.types.get(named_type(f.type))
    is_list = f.type.lstrip().startswith("[")
    if size.sized_fields is None:
        if not is_list:
            error(
                "LIST_SIZE_INVALID_SIZED_FIELD",
                f'"{coordinate}" is not a list. Try to add @listSize(sizedFields:) argument.',
                "put @listSize on list fields, or name the list fields of what it returns "
                "in sizedFields.",
            )
        return
    if target is None or is_leaf(subgraph, target.name) or target.kind == Kind.UNION:
        error(
            "LIST_SIZE_INVALID_SIZED_FIELD",
            f'"{coordinate}" has @listSize(sizedFields:) applied, but the output type is not a '
            "composite type.",
            "use sizedFields only on fields that return an object (such as a connection).",
        )
        return
    for name in size.sized_fields:
        sized = target.fields.get(name)
        if sized is None:
            error(
                "LIST_SIZE_INVALID_SIZED_FIELD",
                f'"{coordinate}" references "{name}" field in @listSize(sizedFields:) argument '
                "that does not exist.",
                f'name list fields of "{target.name}".',
            )
        elif not sized.type.startswith("["):
            error(
                "LIST_SIZE_APPLIED_TO_NON_LIST",
                f'"{coordinate}" references "{name}" field in @listSize(sizedFields:) argument '
                "that is not a list.",
                f'name list fields of "{target.name}".',
            )
