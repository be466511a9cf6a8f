"""The merged result tree: walking plan paths, building representations, merging entities."""

from __future__ import annotations

from typing import Any

from gateway.planning.plan import PathSegment, Rename, RepField, RepSelection

# A response path, built as a chain of (parent, key) pairs: appending a step costs one small
# tuple, not a copy of the whole path (most paths are never read: only errors need them).
Path = tuple[Any, ...]


def flat_path(path: Path) -> list[str | int]:
    """The path as the list a GraphQL error carries."""
    steps: list[str | int] = []
    while path:
        path, key = path
        steps.append(key)
    steps.reverse()
    return steps


def objects_at(data: dict[str, Any], path: tuple[PathSegment, ...]) -> list[dict[str, Any]]:
    """Every object at `path` (lists flattened), once per place it is found.

    No response paths: building one per object cost more than the walk itself, and only
    errors need them (`paths_at`)."""
    current: list[dict[str, Any]] = [data]
    for seg in path:
        nxt: list[dict[str, Any]] = []
        key, types = seg.key, seg.types
        for obj in current:
            if types is not None and obj.get("__typename") not in types:
                continue
            value = obj.get(key)
            if type(value) is dict:
                nxt.append(value)
            elif type(value) is list:
                _flatten(value, nxt)
        current = nxt
    return current


def _flatten(items: list[Any], out: list[dict[str, Any]]) -> None:
    for item in items:
        if type(item) is dict:
            out.append(item)
        elif type(item) is list:
            _flatten(item, out)


def rename_fields(roots: list[Any], renames: tuple[Rename, ...]) -> None:
    """Gives fields aliased in a subgraph document their client names back, in a subgraph's
    answer (`roots`: its data, or its entities) before anything reads it."""
    for rename in renames:
        for root in roots:
            if type(root) is not dict:
                continue
            for obj in objects_at(root, rename.path):
                if rename.types is not None and obj.get("__typename") not in rename.types:
                    continue
                if rename.alias in obj:
                    obj[rename.key] = obj.pop(rename.alias)


def paths_at(data: dict[str, Any], path: tuple[PathSegment, ...]) -> dict[int, list[Path]]:
    """The response path(s) of each object at `path`, by the object's id(): the slow walk of
    `objects_at`, for errors. (One object can sit at several paths: an entity's answer merged
    into two objects that one representation stood for shares its nested values.)"""
    current: list[tuple[Any, Path]] = [(data, ())]
    for seg in path:
        nxt: list[tuple[Any, Path]] = []
        for obj, obj_path in current:
            if seg.types is not None and obj.get("__typename") not in seg.types:
                continue
            value = obj.get(seg.key)
            if type(value) is dict:
                nxt.append((value, (obj_path, seg.key)))
            elif type(value) is list:
                _flatten_with_paths(value, (obj_path, seg.key), nxt)
        current = nxt
    found: dict[int, list[Path]] = {}
    for obj, obj_path in current:
        found.setdefault(id(obj), []).append(obj_path)
    return found


def _flatten_with_paths(items: list[Any], path: Path, out: list[tuple[Any, Path]]) -> None:
    for index, item in enumerate(items):
        if type(item) is dict:
            out.append((item, (path, index)))
        elif type(item) is list:
            _flatten_with_paths(item, (path, index), out)


def representation(
    obj: dict[str, Any], type_name: str, fields: tuple[RepField, ...]
) -> dict[str, Any] | None:
    """`{"__typename": T, key fields..., required fields...}`, or None if a key part is missing
    or null (a null key names no entity)."""
    rep: dict[str, Any] = {"__typename": type_name}
    for f in fields:
        if f.name == "__typename":
            continue
        if f.key not in obj:
            return None
        value = obj[f.key]
        if value is None:
            if f.identifies:
                return None
        elif f.sub is not None:
            value = _nested(value, f.sub, f.identifies)
            if value is _MISSING:
                return None
        rep[f.name] = value
    return rep


_MISSING = object()
_ABSENT = object()


def _nested(value: Any, sub: RepSelection, identifies: bool = False) -> Any:
    """The representation's value of an object (or list) field: `sub`'s fields of it, or
    _MISSING where one is absent, or where a key part (`identifies`) is null."""
    if isinstance(value, list):
        if identifies and any(v is None for v in value):
            return _MISSING
        items = [_nested(v, sub, identifies) if v is not None else None for v in value]
        return _MISSING if any(i is _MISSING for i in items) else items
    if not isinstance(value, dict):
        return _MISSING
    type_name = value.get("__typename")
    fields = sub.get(type_name) if isinstance(type_name, str) else None
    if fields is None:
        # no concrete type known (or the name of an @interfaceObject, whose subgraph does not
        # know it): fine where every possible type needs the same fields
        choices = iter(sub.values())
        fields = next(choices, None)
        if fields is None or any(other != fields for other in choices):
            return _MISSING
        if not isinstance(type_name, str):
            type_name = next(iter(sub))
    out: dict[str, Any] = {}
    for f in fields:
        if f.name == "__typename":
            out["__typename"] = type_name
            continue
        if f.key not in value:
            return _MISSING
        inner = value[f.key]
        if inner is None:
            if f.identifies:
                return _MISSING
        elif f.sub is not None:
            inner = _nested(inner, f.sub, f.identifies)
            if inner is _MISSING:
                return _MISSING
        out[f.name] = inner
    return out


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge a subgraph's object into ours; objects merge field by field, lists item by item."""
    if target.keys().isdisjoint(source):  # most entity answers: only fields we lack (C speed)
        target.update(source)
        return
    for key, value in source.items():
        existing = target.get(key, _ABSENT)
        if existing is _ABSENT:  # most keys: a field only this answer has
            target[key] = value
            continue
        if key == "__typename":
            continue  # an @interfaceObject answers with the interface's name, not the object's
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            _merge_lists(existing, value)
        elif value is not None or existing is None:
            target[key] = value


def _merge_lists(target: list[Any], source: list[Any]) -> None:
    for index, value in enumerate(source):
        existing = target[index]
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            _merge_lists(existing, value)
        elif value is not None or existing is None:
            target[index] = value
