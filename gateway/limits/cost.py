"""The estimated cost of an operation, from the `@cost` and `@listSize` directives the supergraph
carries (IBM's GraphQL cost directive specification, as Apollo's demand control reads it).

- A field costs its weight, plus the cost of its selection; a list field costs that times its
  expected size. The weight is the field's `@cost`, else its type's `@cost`, else 1 for an
  object, interface or union and 0 for a scalar or enum. `__typename` costs nothing.
- A list's expected size: from `@listSize`, the largest of its slicing arguments (`first: 5`,
  a variable, or the argument's default), else its `assumedSize`; else the configured size.
  With `sizedFields` (a connection), that size applies to those child fields instead.
- Arguments add their `@cost`; an input object adds 1 (or its `@cost`) and its fields' costs;
  a list adds its items'.
- A mutation adds 10.
- Introspection (`__schema`, `__type`) is left out: the gateway answers it from the schema,
  and validation bounds its depth.

The supergraph names the directives through `@link(url: "https://specs.apollo.dev/cost/v0.1",
import: ["@cost", "@listSize"])`; renamed imports and namespaces are followed. Without that
link every weight is the default one.

Spreads of one fragment in one selection set count once, as execution merges them; fragments
are walked without recursion, so a long chain of them cannot exhaust the stack. The caller
has already bounded the operation's size (gateway/limits/shape.py): the walk is linear in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLCompositeType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

from gateway.limits.refusal import LimitExceeded

COST_SPEC = re.compile(r"^https?://specs\.apollo\.dev/cost/v\d+\.\d+")
MUTATION_COST = 10
SLICING_ARGUMENT_REQUIRED = "SLICING_ARGUMENT_REQUIRED"
_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class ListSize:
    assumed: int | None = None
    slicing: tuple[str, ...] = ()
    sized: tuple[str, ...] = ()
    require_one: bool = True


@dataclass(frozen=True, slots=True)
class CostNames:
    """How this supergraph spells the two directives."""

    cost: str
    list_size: str


def cost_names(schema: GraphQLSchema) -> CostNames | None:
    """The names the supergraph's `@link`s to the cost spec give its directives (one link may
    import both, or one link each); None without such a link."""
    node = schema.ast_node
    names: dict[str, str] | None = None
    for directive in (node.directives or ()) if node is not None else ():
        if directive.name.value != "link":
            continue
        args = {a.name.value: a.value for a in directive.arguments or ()}
        url = args.get("url")
        if not isinstance(url, StringValueNode) or not COST_SPEC.match(url.value):
            continue
        if names is None:
            alias = args.get("as")
            namespace = alias.value if isinstance(alias, StringValueNode) else "cost"
            # not imported: the spec's own-name directive is @<namespace>, others
            # @<namespace>__name
            names = {"cost": namespace, "listSize": f"{namespace}__listSize"}
        imports = args.get("import")
        for item in imports.values if isinstance(imports, ListValueNode) else ():
            name, local = _import(item)
            if name in ("@cost", "@listSize") and local:
                names[name[1:]] = local.lstrip("@")
    return None if names is None else CostNames(names["cost"], names["listSize"])


def _import(item: ValueNode) -> tuple[str | None, str | None]:
    if isinstance(item, StringValueNode):
        return item.value, item.value
    if isinstance(item, ObjectValueNode):
        fields = {f.name.value: f.value for f in item.fields}
        name, alias = fields.get("name"), fields.get("as")
        if isinstance(name, StringValueNode):
            local = alias.value if isinstance(alias, StringValueNode) else name.value
            return name.value, local
    return None, None


def _int_arg(directive: DirectiveNode, name: str) -> int | None:
    for arg in directive.arguments or ():
        if arg.name.value == name:
            if isinstance(arg.value, IntValueNode):
                return int(arg.value.value)
            if isinstance(arg.value, StringValueNode):  # some tools write weights as strings
                try:
                    return int(arg.value.value)
                except ValueError:
                    return None
    return None


def _strings_arg(directive: DirectiveNode, name: str) -> tuple[str, ...]:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, ListValueNode):
            return tuple(v.value for v in arg.value.values if isinstance(v, StringValueNode))
    return ()


def _bool_arg(directive: DirectiveNode, name: str, default: bool) -> bool:
    for arg in directive.arguments or ():
        if arg.name.value == name and isinstance(arg.value, BooleanValueNode):
            return arg.value.value
    return default


def _directives(node: Any, name: str) -> list[DirectiveNode]:
    return [d for d in getattr(node, "directives", None) or () if d.name.value == name]


class CostModel:
    """Weights and list sizes read once per supergraph."""

    def __init__(self, supergraph_schema: GraphQLSchema, api_schema: GraphQLSchema) -> None:
        self.schema = api_schema
        self.type_weights: dict[str, int] = {}
        self.field_weights: dict[tuple[str, str], int] = {}
        # (type, field, argument) and (input type, input field)
        self.argument_weights: dict[tuple[str, str, str], int] = {}
        self.input_field_weights: dict[tuple[str, str], int] = {}
        self.list_sizes: dict[tuple[str, str], ListSize] = {}
        names = cost_names(supergraph_schema)
        if names is not None:
            self._read(supergraph_schema, names)

    @property
    def declared(self) -> bool:
        """Whether the supergraph carries any @cost or @listSize."""
        return bool(
            self.type_weights
            or self.field_weights
            or self.argument_weights
            or self.input_field_weights
            or self.list_sizes
        )

    def _read(self, schema: GraphQLSchema, names: CostNames) -> None:
        def weight(node: Any) -> int | None:
            for directive in _directives(node, names.cost):
                return _int_arg(directive, "weight")
            return None

        for type_name, gtype in schema.type_map.items():
            if type_name.startswith("__"):
                continue
            found = weight(gtype.ast_node)
            if found is not None:
                self.type_weights[type_name] = found
            if isinstance(gtype, GraphQLInputObjectType):
                for field_name, input_field in gtype.fields.items():
                    found = weight(input_field.ast_node)
                    if found is not None:
                        self.input_field_weights[(type_name, field_name)] = found
                continue
            if not isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType):
                continue
            for field_name, gfield in gtype.fields.items():
                found = weight(gfield.ast_node)
                if found is not None:
                    self.field_weights[(type_name, field_name)] = found
                for arg_name, arg in gfield.args.items():
                    found = weight(arg.ast_node)
                    if found is not None:
                        self.argument_weights[(type_name, field_name, arg_name)] = found
                for directive in _directives(gfield.ast_node, names.list_size):
                    self.list_sizes[(type_name, field_name)] = ListSize(
                        assumed=_int_arg(directive, "assumedSize"),
                        slicing=_strings_arg(directive, "slicingArguments"),
                        sized=_strings_arg(directive, "sizedFields"),
                        require_one=_bool_arg(directive, "requireOneSlicingArgument", True),
                    )

    def estimate(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        list_size: int,
    ) -> Estimate:
        """The operation's cost with these (coerced) variable values."""
        walk = _Walk(self, document, variables, list_size)
        root = self.schema.get_root_type(operation.operation)
        cost = MUTATION_COST if operation.operation == OperationType.MUTATION else 0
        if root is not None:
            cost += walk.selection_set(operation.selection_set, root, None)
        return Estimate(cost, walk.used_variables)

    def _list_size(self, parent: GraphQLCompositeType, field: str) -> ListSize | None:
        found = self.list_sizes.get((parent.name, field))
        if found is None and isinstance(parent, GraphQLObjectType):
            for interface in parent.interfaces:  # declared on the interface's field
                found = self.list_sizes.get((interface.name, field))
                if found is not None:
                    break
        return found


def _int_default(argument: GraphQLArgument) -> int | None:
    """An argument's default, when it is a whole number (from the SDL's literal: graphql-core
    3.3 keeps it there, with `default_value` left undefined)."""
    value = argument.default_value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    node = argument.ast_node
    if node is not None and isinstance(node.default_value, IntValueNode):
        return int(node.default_value.value)
    return None


@dataclass(frozen=True, slots=True)
class Estimate:
    cost: int
    # whether any variable's value went into it (else it holds for every request)
    used_variables: bool


# the expected size of a list, and the child fields it applies to (a connection's `edges`)
_Sized = tuple[int | None, tuple[str, ...]]


class _Walk:
    def __init__(
        self,
        model: CostModel,
        document: DocumentNode,
        variables: Mapping[str, Any],
        list_size: int,
    ) -> None:
        self.model = model
        self.schema = model.schema
        self.variables = variables
        self.list_size = list_size
        self.used_variables = False
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def _variable(self, name: str) -> Any:
        self.used_variables = True
        return self.variables.get(name)

    def included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            value = False
            for arg in directive.arguments or ():
                if arg.name.value != "if":
                    continue
                if isinstance(arg.value, BooleanValueNode):
                    value = arg.value.value
                elif isinstance(arg.value, VariableNode):
                    value = bool(self._variable(arg.value.name.value))
            if value == (name == "skip"):
                return False
        return True

    def selection_set(
        self, selection_set: SelectionSetNode, parent: Any, sized: _Sized | None
    ) -> int:
        total = 0
        spread: set[str] = set()
        stack: list[tuple[SelectionSetNode, Any]] = [(selection_set, parent)]
        while stack:  # this level's selections, inline fragments and spreads included
            current, parent_type = stack.pop()
            for selection in current.selections:
                if not self.included(selection):  # type: ignore[arg-type]
                    continue
                if isinstance(selection, FieldNode):
                    total += self.field(selection, parent_type, sized)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    narrowed = self.schema.get_type(condition.name.value) if condition else None
                    stack.append((selection.selection_set, narrowed or parent_type))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in spread:
                        continue
                    spread.add(name)
                    narrowed = self.schema.get_type(fragment.type_condition.name.value)
                    stack.append((fragment.selection_set, narrowed or parent_type))
        return total

    def field(self, node: FieldNode, parent: Any, sized: _Sized | None) -> int:
        name = node.name.value
        if name == "__typename" or name in _INTROSPECTION:
            return 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        model = self.model
        named = get_named_type(definition.type)
        declared = model._list_size(parent, name)
        expected = self.expected_size(declared, definition.args, node) if declared else None
        if not is_list_type(get_nullable_type(definition.type)):
            instances = 1
        elif sized is not None and name in sized[1] and sized[0] is not None:
            instances = sized[0]
        elif expected is not None:
            instances = expected
        else:
            instances = self.list_size
        weight = model.field_weights.get((parent.name, name))
        if weight is None:
            weight = model.type_weights.get(named.name, 1 if is_composite_type(named) else 0)
        if node.selection_set is not None and is_composite_type(named):
            child = (expected, declared.sized) if declared is not None and declared.sized else None
            weight += self.selection_set(node.selection_set, named, child)
        arguments = 0
        for arg in node.arguments or ():
            arg_definition = definition.args.get(arg.name.value)
            if arg_definition is not None:
                own = model.argument_weights.get((parent.name, name, arg.name.value))
                arguments += self.argument(arg.value, arg_definition.type, own)
        return instances * weight + arguments

    def expected_size(
        self, declared: ListSize, args: Mapping[str, GraphQLArgument], node: FieldNode
    ) -> int | None:
        values: dict[str, int] = {}
        for name in declared.slicing:
            default = _int_default(args[name]) if name in args else None
            if default is not None:
                values[name] = default
        for arg in node.arguments or ():
            name = arg.name.value
            if name not in declared.slicing:
                continue
            value: Any = None
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                if arg.value.name.value not in self.variables:
                    self.used_variables = True
                    continue  # not given: the argument's default holds
                value = self._variable(arg.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                values[name] = value
            elif isinstance(arg.value, NullValueNode) or value is None:
                values.pop(name, None)  # an explicit null: no size from this argument
        if values:
            # several slicing arguments given: the largest is the safe assumption
            return max(0, *values.values())
        if declared.slicing and declared.require_one and declared.assumed is None:
            raise LimitExceeded(
                SLICING_ARGUMENT_REQUIRED,
                f"The field {node.name.value} needs one of its arguments "
                f"{', '.join(declared.slicing)}: how many items it returns is not known "
                "otherwise.",
                1,
                0,
            )
        return declared.assumed

    def argument(self, value: ValueNode, input_type: Any, own: int | None) -> int:
        if isinstance(value, VariableNode):
            return self.variable_value(self._variable(value.name.value), input_type, own)
        if isinstance(value, NullValueNode):
            return 0
        nullable: Any = get_nullable_type(input_type)
        if isinstance(value, ListValueNode):
            item_type = nullable.of_type if is_list_type(nullable) else nullable
            items = sum(self.argument(v, item_type, own) for v in value.values)
            return (own or 0) + items
        named = get_named_type(input_type)
        if isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            total = 1 if own is None else own
            for field in value.fields:
                definition = named.fields.get(field.name.value)
                if definition is not None:
                    weight = self.model.input_field_weights.get((named.name, field.name.value))
                    total += self.argument(field.value, definition.type, weight)
            return total
        return own if own is not None else self.model.type_weights.get(named.name, 0)

    def variable_value(self, value: Any, input_type: Any, own: int | None) -> int:
        if value is None:
            return 0
        nullable: Any = get_nullable_type(input_type)
        named = get_named_type(input_type)
        if isinstance(value, list):
            item_type = nullable.of_type if is_list_type(nullable) else nullable
            return (own or 0) + sum(self.variable_value(v, item_type, own) for v in value)
        if isinstance(value, dict) and isinstance(named, GraphQLInputObjectType):
            total = 1 if own is None else own
            for key, item in value.items():
                definition = named.fields.get(key)
                if definition is not None:
                    weight = self.model.input_field_weights.get((named.name, key))
                    total += self.variable_value(item, definition.type, weight)
            return total
        return own if own is not None else self.model.type_weights.get(named.name, 0)
