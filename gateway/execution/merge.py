"""The merged result tree: walking plan paths, building representations, merging entities."""

from __future__ import annotations

from typing import Any

from gateway.planning.plan import PathSegment, RepField, RepSelection

Path = tuple[str | int, ...]


def objects_at(
    data: dict[str, Any], path: tuple[PathSegment, ...]
) -> list[tuple[dict[str, Any], Path]]:
    """Every object at `path` (lists flattened), with its concrete response path."""
    current: list[tuple[Any, Path]] = [(data, ())]
    for seg in path:
        nxt: list[tuple[Any, Path]] = []
        for obj, obj_path in current:
            if not isinstance(obj, dict):
                continue
            if seg.types is not None and obj.get("__typename") not in seg.types:
                continue
            _flatten(obj.get(seg.key), (*obj_path, seg.key), nxt)
        current = nxt
    return [(obj, p) for obj, p in current if isinstance(obj, dict)]


def _flatten(value: Any, path: Path, out: list[tuple[Any, Path]]) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, (*path, index), out)
    elif value is not None:
        out.append((value, path))


def representation(
    obj: dict[str, Any], type_name: str, fields: tuple[RepField, ...]
) -> dict[str, Any] | None:
    """`{"__typename": T, key fields..., required fields...}`, or None if a key part is missing."""
    rep: dict[str, Any] = {"__typename": type_name}
    for f in fields:
        if f.name == "__typename":
            continue
        if f.key not in obj:
            return None
        value = obj[f.key]
        if f.sub is not None and value is not None:
            value = _nested(value, f.sub)
            if value is _MISSING:
                return None
        rep[f.name] = value
    return rep


_MISSING = object()


def _nested(value: Any, sub: RepSelection) -> Any:
    if isinstance(value, list):
        items = [_nested(v, sub) if v is not None else None for v in value]
        return _MISSING if any(i is _MISSING for i in items) else items
    if not isinstance(value, dict):
        return _MISSING
    type_name = value.get("__typename")
    if type_name not in sub:
        if len(sub) != 1:
            return _MISSING
        type_name = next(iter(sub))
    out: dict[str, Any] = {}
    for f in sub[type_name]:
        if f.name == "__typename":
            out["__typename"] = type_name
            continue
        if f.key not in value:
            return _MISSING
        inner = value[f.key]
        if f.sub is not None and inner is not None:
            inner = _nested(inner, f.sub)
            if inner is _MISSING:
                return _MISSING
        out[f.name] = inner
    return out


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge a subgraph's object into ours; objects merge field by field, lists item by item."""
    for key, value in source.items():
        if key == "__typename" and key in target:
            continue  # an @interfaceObject answers with the interface's name, not the object's
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            _merge_lists(existing, value)
        elif key not in target or value is not None or existing is None:
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
