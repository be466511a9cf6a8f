"""The client's response from the merged tree: selection order, aliases, __typename, and GraphQL
null propagation (a null in a non-null position nulls the nearest nullable ancestor).

No general GraphQL executor runs here: the normalized operation already says, per concrete type,
which response keys to copy, so shaping is one walk over the data.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
)

from gateway.errors import UNAUTHORIZED, graphql_error
from gateway.execution.merge import Path, flat_path
from gateway.operation import NField, NOperation, NSelection, same_everywhere

# Paths are (parent, key) chains, as in merging: a step costs one small tuple, and only an error
# turns one into the list it carries.


class _Null(Exception):
    """A non-null position got null: unwind to the nearest nullable ancestor."""


class Shaper:
    def __init__(
        self, errors: list[dict[str, Any]], explained: list[list[Any]] | None = None
    ) -> None:
        self.errors = errors
        self._error_prefixes: set[tuple[str | int, ...]] = set()
        for error in errors:
            self._note(error.get("path"))
        for path in explained or ():
            self._note(path)

    def _note(self, path: Any) -> None:
        if isinstance(path, list):
            for i in range(len(path) + 1):
                self._error_prefixes.add(tuple(path[:i]))

    def shape(self, op: NOperation, data: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._object(data, op.root, op.root_type, ())
        except _Null:
            return None

    def _object(
        self, value: dict[str, Any], nsel: NSelection, runtime: str, path: Path
    ) -> dict[str, Any]:
        steps = nsel.shape_steps.get(runtime)
        if steps is None:
            if runtime not in nsel.by_type:
                return {}
            steps = nsel.shape_steps[runtime] = _steps(nsel.by_type[runtime])
        out: dict[str, Any] = {}
        nulled = False  # like an executor, complete every field (and report its errors) first
        for key, f, step in steps:
            if step == _COPY:
                out[key] = value.get(key)
                continue
            found = value.get(key)
            if step == _COPY_NON_NULL:
                if found is not None:
                    out[key] = found
                    continue
            elif step in (_OBJECT, _OBJECT_NON_NULL):
                # an object of one known type: straight to its fields
                if type(found) is dict:
                    sub = f.selection
                    assert sub is not None
                    try:
                        out[key] = self._object(found, sub, sub.type_name, (path, key))
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
                    out[key] = self._object_list(found, f, (path, key))
                except _Null:
                    nulled = True
                continue
            try:
                if step == _TYPENAME:
                    out[key] = runtime
                elif f.denied is not None:
                    out[key] = None
                    self._denied(f, (path, key))
                else:
                    out[key] = self._field(found, f, runtime, (path, key))
            except _Null:
                nulled = True
        if nulled:
            raise _Null
        return out

    def _object_list(self, items: list[Any], f: NField, path: Path) -> list[Any] | None:
        """A list of objects of one known type (no nested lists), completed item by item as
        `_complete` would, without its per-item type dispatch."""
        list_type = f.type
        list_non_null = isinstance(list_type, GraphQLNonNull)
        if list_non_null:
            list_type = list_type.of_type  # type: ignore[union-attr]
        items_nullable = not isinstance(list_type.of_type, GraphQLNonNull)  # type: ignore[union-attr]
        nsel = f.selection
        assert nsel is not None
        type_name = nsel.type_name
        out: list[Any] = []
        for index, item in enumerate(items):
            if type(item) is dict:
                try:
                    out.append(self._object(item, nsel, type_name, (path, index)))
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

    def _field(self, value: Any, f: NField, parent: str, path: Path) -> Any:
        try:
            return self._complete(value, f.type, f, path)
        except _Null:
            if isinstance(f.type, GraphQLNonNull):
                raise
            return None

    def _complete(self, value: Any, gtype: GraphQLOutputType, f: NField, path: Path) -> Any:
        if isinstance(gtype, GraphQLNonNull):
            result = self._complete(value, gtype.of_type, f, path)
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
                    out.append(self._complete(item, item_type, f, (path, index)))
                except _Null:
                    if not items_nullable:
                        return None  # a null item in a non-null list nulls the list
                    out.append(None)  # a nullable item absorbs the null; the rest go on
            return out
        if f.selection is not None:
            if not isinstance(value, dict):
                return self._bad_value(f, path, "Expected an object")
            nsel = f.selection
            runtime = value.get("__typename") if nsel.abstract else nsel.type_name
            if runtime == nsel.type_name and nsel.abstract and same_everywhere(nsel):
                # an @interfaceObject's answer: its concrete type changes nothing here
                runtime = next(iter(nsel.by_type), runtime)
            if not isinstance(runtime, str) or runtime not in nsel.by_type:
                return self._bad_value(
                    f, path, f'Abstract type "{nsel.type_name}" resolved to an unknown type'
                )
            return self._object(value, nsel, runtime, path)
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


_COMPLETE, _TYPENAME, _COPY, _COPY_NON_NULL, _OBJECT, _OBJECT_NON_NULL, _OBJECT_LIST = range(7)


def _steps(fields: dict[str, NField]) -> tuple[tuple[str, NField, int], ...]:
    """How each field is shaped: a scalar that is not an enum needs no checks beyond null; an
    object of one known type, or a list of them, goes straight to its fields; anything else
    through the general completion. (Copying runs of scalars at once with map/zip measured
    slower: the runs are short.)"""
    steps = []
    for key, f in fields.items():
        step = _COMPLETE
        non_null = isinstance(f.type, GraphQLNonNull)
        inner = f.type.of_type if non_null else f.type  # type: ignore[union-attr]
        if f.is_typename:
            step = _TYPENAME
        elif f.denied is not None:
            step = _COMPLETE
        elif f.selection is None:
            if not isinstance(inner, (GraphQLList, GraphQLEnumType)):
                step = _COPY_NON_NULL if non_null else _COPY
        elif not f.selection.abstract:
            if isinstance(inner, GraphQLList):
                item = inner.of_type
                item = item.of_type if isinstance(item, GraphQLNonNull) else item
                if not isinstance(item, GraphQLList):
                    step = _OBJECT_LIST
            else:
                step = _OBJECT_NON_NULL if non_null else _OBJECT
        steps.append((key, f, step))
    return tuple(steps)
