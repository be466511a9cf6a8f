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
from gateway.operation import NField, NOperation, NSelection, same_everywhere

Path = tuple[str | int, ...]


class _Null(Exception):
    """A non-null position got null: unwind to the nearest nullable ancestor."""


class Shaper:
    def __init__(
        self, errors: list[dict[str, Any]], explained: list[list[Any]] | None = None
    ) -> None:
        self.errors = errors
        self._error_prefixes: set[Path] = set()
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
            # most fields are plain scalars: copied without building their path
            if step == _COPY:
                out[key] = value.get(key)
                continue
            if step == _COPY_NON_NULL:
                found = value.get(key)
                if found is not None:
                    out[key] = found
                    continue
            try:
                if step == _TYPENAME:
                    out[key] = runtime
                elif f.denied is not None:
                    out[key] = None
                    self._denied(f, (*path, key))
                else:
                    out[key] = self._field(value.get(key), f, runtime, (*path, key))
            except _Null:
                nulled = True
        if nulled:
            raise _Null
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
                    out.append(self._complete(item, item_type, f, (*path, index)))
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
        self.errors.append(
            graphql_error(
                f"Unauthorized field or type: {f.parent_type}.{f.name}",
                UNAUTHORIZED,
                path=list(path),
            )
        )
        self._note(list(path))
        if isinstance(f.type, GraphQLNonNull):
            raise _Null

    def _null_error(self, f: NField, path: Path) -> None:
        if path in self._error_prefixes:
            return  # an error at or below this path already explains the null
        parent = f.parent_type
        self.errors.append(
            graphql_error(
                f"Cannot return null for non-nullable field {parent}.{f.name}.",
                "INTERNAL_SERVER_ERROR",
                path=list(path),
            )
        )
        self._note(list(path))

    def _bad_value(self, f: NField, path: Path, message: str) -> None:
        self.errors.append(graphql_error(message, "INTERNAL_SERVER_ERROR", path=list(path)))
        self._note(list(path))
        return None


_COMPLETE, _TYPENAME, _COPY, _COPY_NON_NULL = 0, 1, 2, 3


def _steps(fields: dict[str, NField]) -> tuple[tuple[str, NField, int], ...]:
    """How each field is shaped: a scalar that is not an enum needs no checks beyond null."""
    steps = []
    for key, f in fields.items():
        step = _COMPLETE
        if f.is_typename:
            step = _TYPENAME
        elif f.denied is None and f.selection is None:
            inner = f.type.of_type if isinstance(f.type, GraphQLNonNull) else f.type
            if not isinstance(inner, (GraphQLList, GraphQLEnumType)):
                step = _COPY_NON_NULL if isinstance(f.type, GraphQLNonNull) else _COPY
        steps.append((key, f, step))
    return tuple(steps)
