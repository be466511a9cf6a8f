"""A client operation, normalized: fragments expanded per concrete type, @skip/@include applied.

Planning and response shaping both walk this tree instead of the raw AST, so neither needs to
know about fragments, directives on fragments, or field merging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from gateway.errors import RequestError
from gateway.response_keys import stored_key
from gateway.value_text import arguments_text

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
MAX_DEPTH = 100  # selection levels an operation may reach, fragments expanded


# The normalized operation is shared by every request that sends it (it is cached), so it is
# immutable: what a later step learns of it (authorisation's verdicts, shaping's compiled steps)
# is a value of that step's own, keyed by the operation. Nodes compare (and hash) by identity, so
# that a step can name the fields it means; `same_field` compares two by what they select.


@dataclass(frozen=True, slots=True, eq=False)
class NField:
    response_key: str
    name: str
    arguments: tuple[ArgumentNode, ...]
    type: GraphQLOutputType
    selection: NSelection | None
    nodes: tuple[FieldNode, ...]
    parent_type: str = ""

    @property
    def is_typename(self) -> bool:
        return self.name == "__typename"


@dataclass(frozen=True, slots=True, eq=False)
class NSelection:
    """The fields selected at one position, per concrete type that can appear there."""

    type_name: str
    abstract: bool
    by_type: Mapping[str, Mapping[str, NField]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class NOperation:
    kind: OperationType
    name: str | None
    root: NSelection
    variable_definitions: Mapping[str, VariableDefinitionNode]

    @property
    def root_type(self) -> str:
        return self.root.type_name


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for op in operations:
            if op.name and op.name.value == operation_name:
                return op
        raise RequestError(f"Unknown operation named '{operation_name}'.", "OPERATION_NOT_FOUND")
    if len(operations) != 1:
        raise RequestError(
            "Must provide operation name if query contains multiple operations.",
            "OPERATION_NAME_REQUIRED",
        )
    return operations[0]


def condition_variables(document: DocumentNode) -> frozenset[str]:
    """Variables that decide @skip/@include anywhere in the document."""
    names: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in {"skip", "include"}:
                    for arg in directive.arguments or ():
                        if isinstance(arg.value, VariableNode):
                            names.add(arg.value.name.value)
            visit(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            visit(definition.selection_set)
    return frozenset(names)


class _Normalizer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name in {"skip", "include"}:
                value = self._condition(directive)
                if (name == "skip" and value) or (name == "include" and not value):
                    return False
        return True

    def _condition(self, directive: DirectiveNode) -> bool:
        for arg in directive.arguments or ():
            if arg.name.value == "if":
                if isinstance(arg.value, BooleanValueNode):
                    return arg.value.value
                if isinstance(arg.value, VariableNode):
                    return bool(self.variables.get(arg.value.name.value))
        return False

    def applies(self, type_condition: str | None, concrete: GraphQLObjectType) -> bool:
        if type_condition is None or type_condition == concrete.name:
            return True
        cond = self.schema.get_type(type_condition)
        return bool(
            cond is not None and is_abstract_type(cond) and self.schema.is_sub_type(cond, concrete)
        )

    def collect(
        self,
        selection_sets: list[SelectionSetNode],
        concrete: GraphQLObjectType,
        out: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection_set in selection_sets:
            for sel in selection_set.selections:
                if not self.included(sel):  # type: ignore[arg-type]
                    continue
                if isinstance(sel, FieldNode):
                    key = sel.alias.value if sel.alias else sel.name.value
                    out.setdefault(key, []).append(sel)
                elif isinstance(sel, InlineFragmentNode):
                    cond = sel.type_condition.name.value if sel.type_condition else None
                    if self.applies(cond, concrete):
                        self.collect([sel.selection_set], concrete, out, visited)
                elif isinstance(sel, FragmentSpreadNode):
                    name = sel.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments[name]
                    if self.applies(fragment.type_condition.name.value, concrete):
                        self.collect([fragment.selection_set], concrete, out, visited)

    def selection(
        self, static: GraphQLCompositeType, sets: list[SelectionSetNode], depth: int = 0
    ) -> NSelection:
        if depth > MAX_DEPTH:
            # fragments can nest far deeper than the parser's own limit on one document
            raise RequestError(
                f"The operation is nested deeper than {MAX_DEPTH} levels.", "MAX_DEPTH_LIMIT"
            )
        abstract = is_abstract_type(static)
        concretes = (
            self.schema.get_possible_types(static)  # type: ignore[arg-type]
            if abstract
            else [static]
        )
        by_type: dict[str, Mapping[str, NField]] = {}
        for concrete in concretes:
            grouped: dict[str, list[FieldNode]] = {}
            self.collect(sets, concrete, grouped, set())  # type: ignore[arg-type]
            fields: dict[str, NField] = {}
            for key, nodes in grouped.items():
                key = stored_key(key, nodes[0].name.value)
                fields[key] = self.field(concrete, key, nodes, depth)  # type: ignore[arg-type]
            by_type[concrete.name] = fields
        return NSelection(static.name, abstract, by_type)

    def field(
        self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode], depth: int
    ) -> NField:
        name = nodes[0].name.value
        definition: GraphQLField
        if name == "__typename":
            definition = TypeNameMetaFieldDef
        elif name == "__schema":
            definition = SchemaMetaFieldDef
        elif name == "__type":
            definition = TypeMetaFieldDef
        else:
            definition = parent.fields[name]
        sub: NSelection | None = None
        named = get_named_type(definition.type)
        if is_composite_type(named) and name not in INTROSPECTION_FIELDS:
            sets = [n.selection_set for n in nodes if n.selection_set]
            sub = self.selection(named, sets, depth + 1)
        arguments = tuple(nodes[0].arguments or ())
        return NField(key, name, arguments, definition.type, sub, tuple(nodes), parent.name)


def normalize_selection(
    schema: GraphQLSchema, static: GraphQLCompositeType, sets: list[SelectionSetNode]
) -> NSelection:
    """A field set (a key, @requires, a context's selection) normalised as a selection of
    `static`, without fragments or variables."""
    return _Normalizer(schema, {}, {}).selection(static, sets)


def normalize(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> NOperation:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        raise RequestError(
            f"Schema is not configured to execute {operation.operation.value} operation.",
            "OPERATION_NOT_SUPPORTED",
        )
    normalizer = _Normalizer(schema, fragments, variables)
    root = normalizer.selection(root_type, [operation.selection_set])
    return NOperation(
        kind=operation.operation,
        name=operation.name.value if operation.name else None,
        root=root,
        variable_definitions={
            v.variable.name.value: v for v in operation.variable_definitions or ()
        },
    )


def same_field(a: NField, b: NField) -> bool:
    """The same field with the same sub-selection (wherever in the operation it came from)."""
    return (
        a.name == b.name
        and same_arguments(a.arguments, b.arguments)
        and _same_selection(a.selection, b.selection)
    )


def same_arguments(a: tuple[ArgumentNode, ...], b: tuple[ArgumentNode, ...]) -> bool:
    """Compared as text: AST nodes compare unequal when they come from different places in a
    document (their locations differ), printed text does not."""
    if not a or not b:
        return not a and not b
    return len(a) == len(b) and arguments_text(a) == arguments_text(b)


def _same_selection(a: NSelection | None, b: NSelection | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.type_name != b.type_name or a.by_type.keys() != b.by_type.keys():
        return False
    for concrete, fields in a.by_type.items():
        other = b.by_type[concrete]
        if fields.keys() != other.keys():
            return False
        if not all(same_field(f, other[k]) for k, f in fields.items()):
            return False
    return True


def same_everywhere(nsel: NSelection) -> bool:
    """Every concrete type at an abstract position selects the very same fields, and not
    `__typename`: the answer is the same whichever type an object is."""
    first: Mapping[str, NField] | None = None
    for fields in nsel.by_type.values():
        if any(f.is_typename for f in fields.values()):
            return False
        if first is None:
            first = fields
        elif fields.keys() != first.keys() or not all(
            same_field(f, first[k]) for k, f in fields.items()
        ):
            return False
    return True
