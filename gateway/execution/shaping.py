"""The client's response from the merged tree: selection order, aliases, __typename, and GraphQL
null propagation (a null in a non-null position nulls the nearest nullable ancestor).

No general GraphQL executor runs here: the normalized operation already says, per concrete type,
which response keys to copy, so shaping is one walk over the data. How each field is copied is
worked out once per operation and denied fields (`ShapeProgram`, kept in `ShapePrograms`), not
per request, and not in the normalized operation, which every request shares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
)

from gateway.errors import UNAUTHORIZED, graphql_error
from gateway.execution.merge import Path, flat_path
from gateway.lru import LRU
from gateway.operation import NField, NOperation, NSelection, same_everywhere
from gateway.response_keys import client_key

# Paths are (parent, key) chains, as in merging: a step costs one small tuple, and only an error
# turns one into the list it carries.

# (response key, the field, how it is copied, how its value's fields are copied)
# (where the answer is kept, the client's key, the field, how it is shaped, its fields)
_Step = tuple[str, str, NField, int, "ShapeNode | None"]


@dataclass(frozen=True, slots=True, eq=False)
class ShapeNode:
    """How one position of the operation is copied, per concrete type that can appear there."""

    type_name: str
    abstract: bool
    steps: Mapping[str, tuple[_Step, ...]]
    # at an abstract position where every type selects the same fields (an @interfaceObject's
    # answer): the type an object whose __typename is the abstract type's own is copied as
    uniform: str | None


@dataclass(frozen=True, slots=True, eq=False)
class ShapeProgram:
    """How shaping copies one operation's answer, for callers denied the same fields."""

    root: ShapeNode
    steps: int  # how many, all positions and types: its size


class ShapeKey(NamedTuple):
    """A program's key: the operation's fingerprint (gateway/operation_cache.py) and the
    positions of the fields denied (authorisation's; empty for most callers)."""

    fingerprint: str
    denied: tuple[str, ...] = ()


def compile_shape(op: NOperation, denied: Set[NField] = frozenset()) -> ShapeProgram:
    """The program for `op`, whose fields in `denied` are answered null with an error."""
    counter = [0]
    root = _node(op.root, denied, counter)
    return ShapeProgram(root, counter[0])


SHAPE_BASE, SHAPE_PER_STEP = 200, 120  # estimated bytes of a program, for the cache's bound


class ShapePrograms:
    """Compiled programs by `ShapeKey`, bounded by entries and estimated bytes."""

    def __init__(self, entries: int, max_bytes: int, second_sight: bool = True) -> None:
        self.programs: LRU[ShapeKey, ShapeProgram] = LRU(
            entries, max_bytes, _program_weight, second_sight=second_sight
        )

    def program(self, key: ShapeKey, op: NOperation, denied: Set[NField]) -> ShapeProgram:
        """`op` (with `denied`) is what `key` stands for: compiled when not yet known."""
        found = self.programs.get(key)
        if found is None:
            found = compile_shape(op, denied)
            self.programs.offer(key, found)
        return found


def _program_weight(key: ShapeKey, program: ShapeProgram) -> int:
    return SHAPE_BASE + SHAPE_PER_STEP * program.steps


class _Null(Exception):
    """A non-null position got null: unwind to the nearest nullable ancestor."""


class Shaper:
    def __init__(
        self,
        errors: list[dict[str, Any]],
        explained: list[list[Any]] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.errors = errors
        # called once per object shaped: an anonymous request's shaping, in its thread, pauses
        # there while requests with a token are served (gateway/limits/priority.py)
        self.pace = pace
        self._error_prefixes: set[tuple[str | int, ...]] = set()
        # the paths errors are at: a null below one is explained by it (a later fetch can
        # write into an object an earlier one failed to answer, see _null_error)
        self._error_paths: set[tuple[str | int, ...]] = set()
        for error in errors:
            self._note(error.get("path"))
        for path in explained or ():
            self._note(path)

    def _note(self, path: Any) -> None:
        if isinstance(path, list):
            self._error_paths.add(tuple(path))
            for i in range(len(path) + 1):
                self._error_prefixes.add(tuple(path[:i]))

    def shape(self, program: ShapeProgram, data: dict[str, Any]) -> dict[str, Any] | None:
        root = program.root
        try:
            return self._object(data, root, root.type_name, ())
        except _Null:
            return None

    def _object(
        self, value: dict[str, Any], node: ShapeNode, runtime: str, path: Path
    ) -> dict[str, Any]:
        if self.pace is not None:
            self.pace()
        steps = node.steps.get(runtime)
        if steps is None:
            return {}
        out: dict[str, Any] = {}
        nulled = False  # like an executor, complete every field (and report its errors) first
        for stored, key, f, step, child in steps:
            if step == _COPY:
                out[key] = value.get(stored)
                continue
            found = value.get(stored)
            if step == _COPY_NON_NULL:
                if found is not None:
                    out[key] = found
                    continue
            elif step in (_OBJECT, _OBJECT_NON_NULL):
                # an object of one known type: straight to its fields
                if type(found) is dict:
                    assert child is not None
                    try:
                        out[key] = self._object(found, child, child.type_name, (path, key))
                    except _Null:
                        if step == _OBJECT_NON_NULL:
                            nulled = True
                        else:
                            out[key] = None
                    continue
                if found is None and step == _OBJECT:
                    out[key] = None
                    continue
            elif step == _OBJECT_LIST and type(found) is list:
                try:
                    out[key] = self._object_list(found, f, child, (path, key))
                except _Null:
                    nulled = True
                continue
            try:
                if step == _TYPENAME:
                    out[key] = runtime
                elif step == _DENIED:
                    out[key] = None
                    self._denied(f, (path, key))
                else:
                    out[key] = self._field(found, f, child, (path, key))
            except _Null:
                nulled = True
        if nulled:
            raise _Null
        return out

    def _object_list(
        self, items: list[Any], f: NField, node: ShapeNode | None, path: Path
    ) -> list[Any] | None:
        """A list of objects of one known type (no nested lists), completed item by item as
        `_complete` would, without its per-item type dispatch."""
        list_type = f.type
        list_non_null = isinstance(list_type, GraphQLNonNull)
        if list_non_null:
            list_type = list_type.of_type  # type: ignore[union-attr]
        items_nullable = not isinstance(list_type.of_type, GraphQLNonNull)  # type: ignore[union-attr]
        assert node is not None
        type_name = node.type_name
        out: list[Any] = []
        for index, item in enumerate(items):
            if type(item) is dict:
                try:
                    out.append(self._object(item, node, type_name, (path, index)))
                    continue
                except _Null:
                    pass
            elif item is None:
                if not items_nullable:
                    self._null_error(f, (path, index))
            else:
                self._bad_value(f, (path, index), "Expected an object")
            if items_nullable:
                out.append(None)  # a nullable item absorbs the null; the rest go on
                continue
            # a null item in a non-null list nulls the list
            if list_non_null:
                self._null_error(f, path)
                raise _Null
            return None
        return out

    def _field(self, value: Any, f: NField, node: ShapeNode | None, path: Path) -> Any:
        try:
            return self._complete(value, f.type, f, node, path)
        except _Null:
            if isinstance(f.type, GraphQLNonNull):
                raise
            return None

    def _complete(
        self, value: Any, gtype: GraphQLOutputType, f: NField, node: ShapeNode | None, path: Path
    ) -> Any:
        if isinstance(gtype, GraphQLNonNull):
            result = self._complete(value, gtype.of_type, f, node, path)
            if result is None:
                self._null_error(f, path)
                raise _Null
            return result
        if value is None:
            return None
        if isinstance(gtype, GraphQLList):
            if not isinstance(value, list):
                return self._bad_value(f, path, "Expected a list")
            item_type = gtype.of_type
            items_nullable = not isinstance(item_type, GraphQLNonNull)
            out = []
            for index, item in enumerate(value):
                try:
                    out.append(self._complete(item, item_type, f, node, (path, index)))
                except _Null:
                    if not items_nullable:
                        return None  # a null item in a non-null list nulls the list
                    out.append(None)  # a nullable item absorbs the null; the rest go on
            return out
        if node is not None:
            if not isinstance(value, dict):
                return self._bad_value(f, path, "Expected an object")
            runtime = value.get("__typename") if node.abstract else node.type_name
            if runtime == node.type_name and node.uniform is not None:
                # an @interfaceObject's answer: its concrete type changes nothing here
                runtime = node.uniform
            if not isinstance(runtime, str) or runtime not in node.steps:
                return self._bad_value(
                    f, path, f'Abstract type "{node.type_name}" resolved to an unknown type'
                )
            return self._object(value, node, runtime, path)
        if isinstance(gtype, GraphQLEnumType) and value not in gtype.values:
            return self._bad_value(
                f, path, f'Enum "{gtype.name}" cannot represent value: {value!r}'
            )
        return value

    def _denied(self, f: NField, path: Path) -> None:
        flat = flat_path(path)
        self.errors.append(
            graphql_error(
                f"Unauthorized field or type: {f.parent_type}.{f.name}", UNAUTHORIZED, path=flat
            )
        )
        self._note(flat)
        if isinstance(f.type, GraphQLNonNull):
            raise _Null

    def _null_error(self, f: NField, path: Path) -> None:
        flat = flat_path(path)
        if tuple(flat) in self._error_prefixes:
            return  # an error at or below this path already explains the null
        if any(tuple(flat[:i]) in self._error_paths for i in range(len(flat))):
            # so does one above it: a subgraph failed to answer an object there, and a later
            # fetch to another subgraph wrote its own fields into it (as the reference gateways
            # merge too), leaving the failed subgraph's non-null fields without a value
            return
        parent = f.parent_type
        self.errors.append(
            graphql_error(
                f"Cannot return null for non-nullable field {parent}.{f.name}.",
                "INTERNAL_SERVER_ERROR",
                path=flat,
            )
        )
        self._note(flat)

    def _bad_value(self, f: NField, path: Path, message: str) -> None:
        flat = flat_path(path)
        self.errors.append(graphql_error(message, "INTERNAL_SERVER_ERROR", path=flat))
        self._note(flat)
        return None


(
    _COMPLETE,
    _TYPENAME,
    _COPY,
    _COPY_NON_NULL,
    _OBJECT,
    _OBJECT_NON_NULL,
    _OBJECT_LIST,
    _DENIED,
) = range(8)


def _node(nsel: NSelection, denied: Set[NField], counter: list[int]) -> ShapeNode:
    steps = {t: _steps(fields, denied, counter) for t, fields in nsel.by_type.items()}
    uniform = None
    if nsel.abstract and nsel.by_type and same_everywhere(nsel):
        uniform = next(iter(nsel.by_type))
    return ShapeNode(nsel.type_name, nsel.abstract, steps, uniform)


def _steps(
    fields: Mapping[str, NField], denied: Set[NField], counter: list[int]
) -> tuple[_Step, ...]:
    """How each field is shaped: a scalar that is not an enum needs no checks beyond null; an
    object of one known type, or a list of them, goes straight to its fields; anything else
    through the general completion. (Copying runs of scalars at once with map/zip measured
    slower: the runs are short.)"""
    steps = []
    for key, f in fields.items():
        step = _COMPLETE
        non_null = isinstance(f.type, GraphQLNonNull)
        inner = f.type.of_type if non_null else f.type  # type: ignore[union-attr]
        child = None
        if f.is_typename:
            step = _TYPENAME
        elif f in denied:
            step = _DENIED
        elif f.selection is None:
            if not isinstance(inner, (GraphQLList, GraphQLEnumType)):
                step = _COPY_NON_NULL if non_null else _COPY
        else:
            child = _node(f.selection, denied, counter)
            if not f.selection.abstract:
                if isinstance(inner, GraphQLList):
                    item = inner.of_type
                    item = item.of_type if isinstance(item, GraphQLNonNull) else item
                    if not isinstance(item, GraphQLList):
                        step = _OBJECT_LIST
                else:
                    step = _OBJECT_NON_NULL if non_null else _OBJECT
        steps.append((key, client_key(key), f, step, child))
    counter[0] += len(steps)
    return tuple(steps)
