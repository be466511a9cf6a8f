"""What a reference subgraph's answer allows the gateway to cache, and what it depends on.

Every GraphQL response gets

- a `Cache-Control` header: the most restrictive hint of the fields the operation selects (the
  shortest `max-age`; `private` when any of them is personal), e.g. `private, max-age=60` for a
  citizen's tickets next to `public, max-age=86400` for their municipality. A mutation, an
  answer with errors, or an operation whose fields have no hint at all: `no-store`.
- `extensions.cacheTags`: the entities the answer was read from, as `<Type>:<key>` (e.g.
  `Ticket:123`, `Citizen:85671012385`), the tags the gateway's invalidation endpoint takes.
  Resolvers add them to the request's collector, `info.context.cache`, as they load records.

Hints are declared per subgraph, once, by type (`"Ticket"`: every field returning a Ticket, and
entity fetches of Tickets) or by field (`"Municipality.openTicketCount"`). The operation's fold
of them depends only on the document, so it is computed once per query text and remembered
(`HintCache`): a request costs a dictionary lookup, a set of tags and a header.

Fields selected rather than fields resolved: a field under `@skip`, or a fragment on a type the
data turns out not to have, counts too. That is never less restrictive than what was resolved.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

NO_STORE: Final = "no-store"
MAX_REMEMBERED_OPERATIONS: Final = 512


@dataclass(frozen=True, slots=True)
class CacheHint:
    """How long data may be kept (seconds), and whether only for the caller it was read for."""

    max_age: int
    private: bool = False

    def __and__(self, other: CacheHint) -> CacheHint:
        """The more restrictive of the two."""
        return CacheHint(min(self.max_age, other.max_age), self.private or other.private)

    @property
    def header(self) -> str:
        if self.max_age <= 0:
            return NO_STORE
        return f"{'private' if self.private else 'public'}, max-age={self.max_age}"


def public(max_age: int) -> CacheHint:
    return CacheHint(max_age, private=False)


def private(max_age: int) -> CacheHint:
    return CacheHint(max_age, private=True)


CacheHints = Mapping[str, CacheHint]
"""`"Type"` or `"Type.field"` -> its hint."""


class CacheCollector:
    """One request's collector (`info.context.cache`): the tags resolvers add, and the outcome
    the cache-control extension records once the operation ran."""

    __slots__ = ("header", "tags")

    def __init__(self) -> None:
        self.tags: set[str] = set()
        self.header = NO_STORE  # until an operation executed without errors says otherwise

    def tag(self, type_name: str, key: object) -> None:
        """The answer depends on the entity `type_name` with key `key` (e.g. "Ticket", 7)."""
        self.tags.add(f"{type_name}:{key}")


def operation_hint(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    hints: CacheHints,
) -> CacheHint | None:
    """The fold of the hints of every type and field the query selects; None when none of them
    has one, or for a mutation or subscription (never cached)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: CacheHint | None = None
    for hint in _selected_hints(schema, root, operation.selection_set, fragments, hints, set()):
        found = hint if found is None else found & hint
    return found


def _selected_hints(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    hints: CacheHints,
    spread: set[str],
) -> Iterator[CacheHint]:
    type_hint = hints.get(parent.name)
    if type_hint is not None:
        yield type_hint
    fields = parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            field = fields.get(name)
            if field is None:  # __typename and other meta fields
                continue
            field_hint = hints.get(f"{parent.name}.{name}")
            if field_hint is not None:
                yield field_hint
            if selection.selection_set is not None:
                yield from _selected_hints(
                    schema,
                    get_named_type(field.type),
                    selection.selection_set,
                    fragments,
                    hints,
                    spread,
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            if target is not None:
                yield from _selected_hints(
                    schema, target, selection.selection_set, fragments, hints, spread
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in spread:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            if target is not None:
                yield from _selected_hints(
                    schema, target, fragment.selection_set, fragments, hints, spread | {name}
                )


class HintCache:
    """The hint of each operation seen recently, by query text and operation name."""

    def __init__(self, hints: CacheHints, size: int = MAX_REMEMBERED_OPERATIONS) -> None:
        self.hints = dict(hints)
        self.size = size
        self._known: OrderedDict[tuple[str, str | None], CacheHint | None] = OrderedDict()

    def hint(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
    ) -> CacheHint | None:
        key = (query, operation_name)
        try:
            self._known.move_to_end(key)
            return self._known[key]
        except KeyError:
            pass
        found = operation_hint(schema, document, operation_name, self.hints)
        self._known[key] = found
        if len(self._known) > self.size:
            self._known.popitem(last=False)
        return found


class CacheControlExtension(SchemaExtension):
    """Fills the request's `CacheCollector` once the operation ran, and adds
    `extensions.cacheTags` to the answer. Subclassed per schema by `cache_control(hints)`."""

    remembered: HintCache

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context
        collector = getattr(context.context, "cache", None)
        if not isinstance(collector, CacheCollector):
            return
        result = context.result
        if (
            result is None
            or getattr(result, "errors", None)
            or context.graphql_document is None
            or context.query is None
        ):
            collector.header = NO_STORE
            return
        hint = self.remembered.hint(
            context.schema._schema,
            context.query,
            context.graphql_document,
            context.operation_name,
        )
        collector.header = NO_STORE if hint is None else hint.header

    def get_results(self) -> dict[str, object]:
        collector = getattr(self.execution_context.context, "cache", None)
        if isinstance(collector, CacheCollector) and collector.tags:
            return {"cacheTags": sorted(collector.tags)}
        return {}


def cache_control(hints: CacheHints) -> type[CacheControlExtension]:
    """The extension class of one schema, remembering its operations' hints."""
    return type("CacheControl", (CacheControlExtension,), {"remembered": HintCache(hints)})
