"""Generated operations dressed the way clients write them.

hypothesis-graphql draws plain selections: no aliases, no fragments of the parent's own type, no
`__typename` beside other fields, no field asked twice. Real clients write all of those, and a
gateway's planner must keep them apart from the fields it asks for itself (keys, requirements,
type names). `dress` rewrites a drawn operation with them, at random but from a seed, so that a
dressed operation is as reproducible as the drawn one:

- a field under a fresh alias, or asked a second time under one;
- `__typename` added to a selection, aliased or not;
- part of a selection moved into an inline fragment (on the parent type, or with no type
  condition) or into a named fragment;
- `@include(if: true)` / `@skip(if: false)` on a field.

Fresh names start with `zz` and a number, which no fixture schema uses, so a dressed operation
is valid wherever the drawn one is; what each reference gateway answers for it is compared with
Rugzak's like any other operation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
    parse,
    print_ast,
)


@dataclass
class _Dresser:
    schema: GraphQLSchema
    rng: random.Random
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)
    counter: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"zz{self.counter}_{stem}"

    def selection_set(
        self, node: SelectionSetNode, parent: GraphQLCompositeType
    ) -> SelectionSetNode:
        rng = self.rng
        out: list[SelectionNode] = []
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                out.extend(self.field(sel, parent))
            elif isinstance(sel, InlineFragmentNode):
                condition = sel.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                assert is_composite_type(inner)
                dressed = self.selection_set(sel.selection_set, inner)  # type: ignore[arg-type]
                out.append(
                    InlineFragmentNode(
                        type_condition=condition, directives=sel.directives, selection_set=dressed
                    )
                )
            else:
                out.append(sel)
        if rng.random() < 0.2:
            alias = NameNode(value=self.fresh("t")) if rng.random() < 0.5 else None
            out.insert(
                rng.randrange(len(out) + 1),
                FieldNode(alias=alias, name=_name("__typename"), arguments=(), directives=()),
            )
        if len(out) > 1 and rng.random() < 0.25:
            start = rng.randrange(len(out))
            end = rng.randrange(start, len(out)) + 1
            out[start:end] = [self.fragment(out[start:end], parent)]
        return SelectionSetNode(selections=tuple(out))

    def fragment(self, part: list[SelectionNode], parent: GraphQLCompositeType) -> SelectionNode:
        inner = SelectionSetNode(selections=tuple(part))
        roll = self.rng.random()
        if roll < 0.4:
            return InlineFragmentNode(
                type_condition=_type(parent.name), directives=(), selection_set=inner
            )
        if roll < 0.6:
            return InlineFragmentNode(type_condition=None, directives=(), selection_set=inner)
        name = f"Zz{len(self.fragments) + 1}"
        self.fragments.append(
            FragmentDefinitionNode(
                name=_name(name),
                type_condition=_type(parent.name),
                directives=(),
                selection_set=inner,
            )
        )
        return FragmentSpreadNode(name=_name(name), directives=())

    def field(self, node: FieldNode, parent: GraphQLCompositeType) -> list[FieldNode]:
        rng = self.rng
        sub = node.selection_set
        name = node.name.value
        named: GraphQLCompositeType | None = None
        if sub is not None:
            assert isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
            named = get_named_type(parent.fields[name].type)  # type: ignore[assignment]
        dressed: list[FieldNode] = []
        for copy in range(2 if rng.random() < 0.1 else 1):
            alias = node.alias
            if copy or rng.random() < 0.3:
                alias = _name(self.fresh(name))
            selection = None
            if sub is not None and named is not None:
                selection = self.selection_set(sub, named)
            directives = tuple(node.directives or ())
            roll = rng.random()
            if roll < 0.05:
                directives = (*directives, _condition("include", True))
            elif roll < 0.1:
                directives = (*directives, _condition("skip", False))
            dressed.append(
                FieldNode(
                    alias=alias,
                    name=node.name,
                    arguments=node.arguments,
                    directives=directives,
                    selection_set=selection,
                )
            )
        return dressed


def dress(query: str, schema: GraphQLSchema, seed: int) -> str:
    """`query` (one operation, no fragments of its own) dressed as a client might write it."""
    dresser = _Dresser(schema, random.Random(seed))
    operations = rewrite_operations(query, schema, dresser.selection_set)
    return print_ast(DocumentNode(definitions=(*operations, *dresser.fragments)))


def rewrite_operations(
    query: str,
    schema: GraphQLSchema,
    rewrite: Callable[[SelectionSetNode, GraphQLObjectType], SelectionSetNode],
) -> list[OperationDefinitionNode]:
    """The operations of `query`, each with its selection rewritten from its root type down."""
    out: list[OperationDefinitionNode] = []
    for definition in parse(query).definitions:
        assert isinstance(definition, OperationDefinitionNode)
        root = schema.get_root_type(definition.operation)
        assert root is not None
        out.append(
            OperationDefinitionNode(
                operation=definition.operation,
                name=definition.name,
                variable_definitions=definition.variable_definitions,
                directives=definition.directives,
                selection_set=rewrite(definition.selection_set, root),
            )
        )
    return out


def _name(value: str) -> NameNode:
    return NameNode(value=value)


def _type(name: str) -> NamedTypeNode:
    return NamedTypeNode(name=_name(name))


def _condition(directive: str, value: bool) -> DirectiveNode:
    argument = ArgumentNode(name=_name("if"), value=BooleanValueNode(value=value))
    return DirectiveNode(name=_name(directive), arguments=(argument,))
