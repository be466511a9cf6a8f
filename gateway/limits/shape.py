"""The shape of a parsed document, measured before it is validated: depth, fields, aliases,
root fields, directives and repeated fields, with fragments expanded.

Validation is where a small document can cost seconds (its overlapping-fields rule compares
pairs of fields, and fragments multiply what it compares), so every number here is found in
time linear in the document: each fragment is measured once, in dependency order, and its
numbers are added wherever it is spread. Nothing recurses across fragments, so a long chain of
fragments cannot exhaust the stack. Unknown fragments and fragment cycles count as empty:
validation reports them.

Counting errs on the side of more: a field reached through two inline fragments counts twice,
though it may merge into one. Only spreads of the same fragment in one selection set are
counted once (they are one and the same selection)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TokenKind,
)

from gateway.limits.refusal import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DIRECTIVES,
    MAX_FIELDS,
    MAX_FRAGMENTS,
    MAX_REPEATED_FIELDS,
    MAX_ROOT_FIELDS,
    MAX_TOKENS,
    QUERY_TOO_LARGE,
    LimitExceeded,
)
from gateway.limits.settings import OperationLimits

# numbers stop growing here: fragments that multiply aliases could otherwise make them huge
_CAP = 1 << 40


@dataclass(frozen=True, slots=True)
class Shape:
    bytes: int
    tokens: int
    depth: int
    fields: int
    aliases: int
    root_fields: int
    directives: int
    fragments: int  # fragment definitions
    # the most field nodes on one response path (`{ a { x } a { x } }`: 2 on `a.x`); None when
    # not measured because `fields` is beyond every client's limit already
    repeated: int | None


@dataclass(slots=True)
class _Sizes:
    fields: int = 0
    aliases: int = 0
    directives: int = 0
    depth: int = 0
    top: int = 0  # fields at the selection set's own level

    def add(self, other: _Sizes) -> None:
        self.fields = min(_CAP, self.fields + other.fields)
        self.aliases = min(_CAP, self.aliases + other.aliases)
        self.directives = min(_CAP, self.directives + other.directives)


def check(shape: Shape, limits: OperationLimits) -> None:
    """Raises LimitExceeded for the first limit the document is over."""
    check_size(shape.bytes, shape.tokens, limits)
    if shape.fields > limits.max_fields:
        raise LimitExceeded(
            MAX_FIELDS,
            f"The operation selects {shape.fields} fields with its fragments expanded; at most "
            f"{limits.max_fields} are allowed.",
            limits.max_fields,
            shape.fields,
        )
    measured: tuple[tuple[str, str, int, int], ...] = (
        (MAX_DEPTH, "is nested {0} levels deep; at most {1}", shape.depth, limits.max_depth),
        (MAX_ALIASES, "has {0} aliases; at most {1}", shape.aliases, limits.max_aliases),
        (
            MAX_ROOT_FIELDS,
            "selects {0} root fields; at most {1}",
            shape.root_fields,
            limits.max_root_fields,
        ),
        (
            MAX_DIRECTIVES,
            "uses {0} directives; at most {1}",
            shape.directives,
            limits.max_directives,
        ),
        (
            MAX_FRAGMENTS,
            "defines {0} fragments; at most {1}",
            shape.fragments,
            limits.max_fragments,
        ),
    )
    for code, text, value, limit in measured:
        if value > limit:
            message = "The operation " + text.format(value, limit) + " are allowed."
            raise LimitExceeded(code, message, limit, value)
    if shape.repeated is None or shape.repeated > limits.max_repeated_fields:
        raise LimitExceeded(
            MAX_REPEATED_FIELDS,
            "The operation selects one field (one response path) "
            f"{shape.repeated if shape.repeated is not None else 'too many'} times; at most "
            f"{limits.max_repeated_fields} are allowed.",
            limits.max_repeated_fields,
            shape.repeated,
        )


def check_size(size: int, tokens: int | None, limits: OperationLimits) -> None:
    if size > limits.max_bytes:
        raise LimitExceeded(
            QUERY_TOO_LARGE,
            f"The query is {size} bytes long; at most {limits.max_bytes} are allowed.",
            limits.max_bytes,
            size,
        )
    if tokens is not None and tokens > limits.max_tokens:
        raise LimitExceeded(
            MAX_TOKENS,
            f"The query has {tokens} tokens; at most {limits.max_tokens} are allowed.",
            limits.max_tokens,
            tokens,
        )


def token_count(document: DocumentNode) -> int:
    """Lexical tokens of a parsed document (comments not counted), from its token list."""
    loc = document.loc
    count = 0
    token = loc.start_token.next if loc is not None else None
    while token is not None and token.kind is not TokenKind.EOF:
        if token.kind is not TokenKind.COMMENT:
            count += 1
        token = token.next
    return count


def measure(document: DocumentNode, size: int, tokens: int, repeated_budget: int) -> Shape:
    """The document's shape; `repeated` is measured only when the fields are within
    `repeated_budget` (its cost grows with them)."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    order = _dependency_order(fragments)
    by_fragment: dict[str, _Sizes] = {}
    for name in order:
        definition = fragments[name]
        sizes = _measure_set(definition.selection_set, by_fragment)
        sizes.directives = min(_CAP, sizes.directives + len(definition.directives or ()))
        by_fragment[name] = sizes
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    total = _Sizes()
    depth = root_fields = 0
    for operation in operations:
        sizes = _measure_set(operation.selection_set, by_fragment)
        sizes.directives += len(operation.directives or ())
        total.add(sizes)
        depth = max(depth, sizes.depth)
        root_fields = max(root_fields, sizes.top)
    for sizes in by_fragment.values():  # fragments no operation uses are validated too
        total.fields = max(total.fields, sizes.fields)
        total.aliases = max(total.aliases, sizes.aliases)
        total.directives = max(total.directives, sizes.directives)
    repeated = None
    if total.fields <= repeated_budget:
        repeated = _repeated(document, fragments, order)
    return Shape(
        bytes=size,
        tokens=tokens,
        depth=depth,
        fields=total.fields,
        aliases=total.aliases,
        root_fields=root_fields,
        directives=total.directives,
        fragments=sum(isinstance(d, FragmentDefinitionNode) for d in document.definitions),
        repeated=repeated,
    )


def _same_level(selection_set: SelectionSetNode) -> Iterator[FieldNode | FragmentSpreadNode]:
    """The fields and fragment spreads of a selection set and of its inline fragments (which
    select at the same level), with no recursion."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FieldNode | FragmentSpreadNode):
                yield selection


def _inline_directives(selection_set: SelectionSetNode) -> int:
    count = 0
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, InlineFragmentNode):
                count += len(selection.directives or ())
                stack.append(selection.selection_set)
    return count


def _measure_set(selection_set: SelectionSetNode, fragments: Mapping[str, _Sizes]) -> _Sizes:
    sizes = _Sizes(directives=_inline_directives(selection_set))
    spread: set[str] = set()
    for selection in _same_level(selection_set):
        sizes.directives += len(selection.directives or ())
        if isinstance(selection, FieldNode):
            sizes.fields += 1
            sizes.top += 1
            if selection.alias is not None:
                sizes.aliases += 1
            if selection.selection_set is not None:
                # recursion follows field nesting only, which the parser already bounds
                inner = _measure_set(selection.selection_set, fragments)
                sizes.add(inner)
                sizes.depth = max(sizes.depth, 1 + inner.depth)
            else:
                sizes.depth = max(sizes.depth, 1)
        else:
            name = selection.name.value
            found = fragments.get(name)
            if name in spread or found is None:
                continue
            spread.add(name)
            sizes.add(found)
            sizes.top = min(_CAP, sizes.top + found.top)
            sizes.depth = max(sizes.depth, found.depth)
    return sizes


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                stack.append(selection.selection_set)  # type: ignore[attr-defined]


def _dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads (depth-first, iterative); a fragment
    in a cycle comes before the one that closes the cycle, which then counts it as empty."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done
    for root in fragments:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, _spreads(fragments[root].selection_set))]
        while stack:
            name, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                stack.pop()
                state[name] = 2
                order.append(name)
            elif following in fragments and following not in state:
                state[following] = 1
                stack.append((following, _spreads(fragments[following].selection_set)))
    return order


# response key -> [how many field nodes, their merged selections]
_Tree = dict[str, list[Any]]


def _repeated(
    document: DocumentNode, fragments: Mapping[str, FragmentDefinitionNode], order: list[str]
) -> int:
    """The most field nodes that share one response path, fragments included: fields with
    the same response name in one selection set merge, and so do their selections, so
    validation compares every pair of nodes on a path (`{ a { x x } a { x x } }` has 4 on
    `a.x`). Each fragment's tree is built once and merged where it is spread."""
    trees: dict[str, _Tree] = {}
    worst = 0
    for name in order:
        trees[name] = _tree(fragments[name].selection_set, trees)
        worst = max(worst, _most(trees[name]))
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            worst = max(worst, _most(_tree(definition.selection_set, trees)))
    return worst


def _tree(selection_set: SelectionSetNode, fragments: Mapping[str, _Tree]) -> _Tree:
    tree: _Tree = {}
    spread: set[str] = set()
    for selection in _same_level(selection_set):
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            node = tree.get(key)
            if node is None:
                node = tree[key] = [0, {}]
            node[0] += 1
            if selection.selection_set is not None:
                _merge(node[1], _tree(selection.selection_set, fragments))
        else:
            name = selection.name.value
            found = fragments.get(name)
            if name in spread or found is None:
                continue
            spread.add(name)
            _merge(tree, found)
    return tree


def _merge(into: _Tree, other: _Tree) -> None:
    """Adds `other`'s counts to `into`, copying (never sharing) its nodes."""
    for key, (count, below) in other.items():
        node = into.get(key)
        if node is None:
            node = into[key] = [0, {}]
        node[0] += count
        _merge(node[1], below)


def _most(tree: _Tree) -> int:
    worst = 0
    stack = [tree]
    while stack:
        for count, below in stack.pop().values():
            worst = max(worst, count)
            stack.append(below)
    return worst
