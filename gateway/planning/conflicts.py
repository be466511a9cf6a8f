"""One response name with different types in sibling fragments of a subgraph document.

A subgraph validates the document it is sent: fields with one response name in one selection set
must have the same response shape (GraphQL's FieldsInSetCanMerge), even in fragments on different
object types. The client's operation meets that rule against the supergraph's types, but a
subgraph may declare the fields differently: `reference: ID!` on Person and `reference: ID` on
Organisation, where the supergraph says `ID` for both. Such a field gets an alias in the subgraph
document, and the executor renames its answers back to the client's name (`Rename`) before
anything else reads them, so that shaping, representations and merging never see the alias.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from graphql import GraphQLEnumType, GraphQLScalarType

from gateway.planning.plan import PathSegment, Rename
from gateway.planning.selection import FieldEntry, SelectionBuilder
from gateway.response_keys import INTERNAL_PREFIX
from gateway.schema.supergraph import Supergraph

# (the entry, the type condition of the fragment it is in (None: the selection's own type), the
# builder holding it)
_Placed = tuple[FieldEntry, str | None, SelectionBuilder]


def alias_conflicts(root: SelectionBuilder, sg: Supergraph) -> tuple[Rename, ...]:
    """Aliases apart, in place, the fields of `root` (a fetch's selection) that could not share
    their response name; the renames that give the answers their names back, deepest first."""
    renames: list[Rename] = []
    _resolve(root, (), [], renames, _leaf_check(sg))
    renames.sort(key=lambda r: len(r.path), reverse=True)
    return tuple(renames)


def _leaf_check(sg: Supergraph) -> Callable[[str], bool]:
    def is_leaf(name: str) -> bool:
        return isinstance(sg.schema.get_type(name), GraphQLScalarType | GraphQLEnumType)

    return is_leaf


def _placed(
    builder: SelectionBuilder, condition: str | None, out: dict[str, list[_Placed]]
) -> None:
    for entry in builder.fields.values():
        out.setdefault(entry.response_key, []).append((entry, condition, builder))
    for type_name, fragment in builder.fragments.items():
        _placed(fragment, type_name, out)


def _resolve(
    builder: SelectionBuilder,
    path: tuple[PathSegment, ...],
    typed: list[SelectionBuilder],
    renames: list[Rename],
    is_leaf: Callable[[str], bool],
) -> None:
    """`typed`: the builders along `path` whose objects a rename's path tells apart by type (so
    they must answer `__typename`)."""
    by_key: dict[str, list[_Placed]] = {}
    _placed(builder, None, by_key)
    for key, placed in by_key.items():
        kept: list[_Placed] = []
        for entry, condition, holder in placed:
            if all(_same_shape(entry, other, is_leaf) for other, _, _ in kept):
                kept.append((entry, condition, holder))
                continue
            alias = _alias(key, condition, holder)
            holder.fields = {
                (alias if k == key else k): e for k, e in holder.fields.items()
            }  # the same order, the entry under its alias
            entry.response_key = alias
            types = frozenset({condition}) if condition is not None else None
            renames.append(Rename(path, types, alias, key))
            for holder_of_type in [*typed, builder]:
                holder_of_type.field("__typename", "__typename", shape="String!")
    for placed in by_key.values():
        for entry, condition, _ in placed:
            if entry.sub is None:
                continue
            types = frozenset({condition}) if condition is not None else None
            step = PathSegment(entry.response_key, types)
            below = [*typed, builder] if condition is not None else typed
            _resolve(entry.sub, (*path, step), below, renames, is_leaf)


def _alias(key: str, condition: str | None, holder: SelectionBuilder) -> str:
    """`_rz<8 hex>_<key>`: shown as `key` in error paths (see internal_fields.public_path)."""
    salt = 0
    while True:
        text = f"{condition}:{key}:{salt}"
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        alias = f"{INTERNAL_PREFIX}{digest}_{key}"
        if alias not in holder.fields:
            return alias
        salt += 1


def _same_shape(a: FieldEntry, b: FieldEntry, is_leaf: Callable[[str], bool]) -> bool:
    """GraphQL's SameResponseShape, over the types the subgraph declares."""
    if a.shape is None or b.shape is None:
        return True
    left, right = a.shape, b.shape
    while True:
        if left.endswith("!") != right.endswith("!"):
            return False
        left, right = left.rstrip("!"), right.rstrip("!")
        if left.startswith("[") != right.startswith("["):
            return False
        if not left.startswith("["):
            break
        left, right = left[1:-1], right[1:-1]
    if is_leaf(left) or is_leaf(right):
        return left == right
    if a.sub is None or b.sub is None:
        return True
    mine: dict[str, list[_Placed]] = {}
    theirs: dict[str, list[_Placed]] = {}
    _placed(a.sub, None, mine)
    _placed(b.sub, None, theirs)
    for key, placed in mine.items():
        for entry, _, _ in placed:
            for other, _, _ in theirs.get(key, ()):
                if not _same_shape(entry, other, is_leaf):
                    return False
    return True
