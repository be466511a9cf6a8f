"""The entity fetch's unit of work: one fetch's distinct representations of the objects at its
path, and for each, the objects its answer is merged into."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

from gateway.cache.entities import Lookup
from gateway.execution.merge import Path, deep_merge, flat_path, paths_at, representation
from gateway.planning.plan import FetchNode, FlatRepresentation


@dataclass(slots=True)
class Cached:
    """What the entity cache knew of a part: its lookup, over the part's original
    representations, and the original index of each representation still to fetch."""

    lookup: Lookup
    reps: list[dict[str, Any]]
    missing: list[int]


@dataclass(slots=True)
class EntityPart:
    """One entity fetch's share of a request: its representations and where each answer goes."""

    node: FetchNode
    variables: dict[str, Any]
    reps: list[dict[str, Any]]
    targets: list[list[dict[str, Any]]]  # per representation, the objects it stands for
    data: dict[str, Any]  # the whole result, to find the targets' paths when errors need them
    cached: Cached | None = None
    _paths: dict[int, list[Path]] | None = None

    def paths(self, index: int) -> list[list[Any]]:
        """The response paths of the objects representation `index` stands for."""
        if self._paths is None:
            self._paths = paths_at(self.data, self.node.path)
        found: list[list[Any]] = []
        for obj in {id(o): o for o in self.targets[index]}.values():
            found.extend(flat_path(p) for p in self._paths.get(id(obj), ()))
        return found


def used_variables(
    node: FetchNode, variables: Mapping[str, Any], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The client's variables the fetch uses (and `values` taken from contexts)."""
    used = {n: variables[n] for n in node.variable_names if n in variables}
    return {**used, **values} if values else used


def flat_representations(
    node: FetchNode,
    flat: FlatRepresentation,
    objects: list[dict[str, Any]],
    reps: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Representations of one type whose fields are all scalars (most keys): the values read
    by one itemgetter are the dedup key. Returns the objects left for the general way (a value
    that is itself an object or a list)."""
    type_name, names, keys, identifies = flat
    sent_as = node.representation_typenames.get(type_name, type_name)
    getter = itemgetter(*keys)
    single = len(keys) == 1
    # the positions of key parts: an object with a null there has no representation
    key_parts = [i for i, part in enumerate(identifies) if part]
    seen: dict[Any, int] = {}
    rest: list[dict[str, Any]] = []
    for obj in objects:
        if obj.get("__typename", type_name) != type_name:
            continue
        try:
            values = getter(obj)
            index = seen.get(values)
        except KeyError:
            continue  # a key part is missing: no representation
        except TypeError:
            rest.append(obj)  # unhashable: a list or object value
            continue
        if index is None:
            if key_parts and (
                values is None if single else any(values[i] is None for i in key_parts)
            ):
                continue  # a null key names no entity
            seen[values] = len(reps)
            rep = {"__typename": sent_as}
            if single:
                rep[names[0]] = values
            else:
                rep.update(zip(names, values, strict=True))
            reps.append(rep)
            targets.append([obj])
        else:
            targets[index].append(obj)
    return rest


def representations(
    node: FetchNode,
    objects: list[dict[str, Any]],
    reps: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
) -> None:
    assert node.representations is not None
    seen: dict[Hashable, int] = {}
    single_type = next(iter(node.representations)) if len(node.representations) == 1 else None
    for obj in objects:
        type_name = obj.get("__typename", single_type)
        if not isinstance(type_name, str):
            continue
        fields = node.representations.get(type_name)
        if fields is None:
            continue
        sent_as = node.representation_typenames.get(type_name, type_name)
        rep = representation(obj, sent_as, fields)
        if rep is None:
            continue
        # representations of one type list their fields in one order: their items are a
        # key unless a value is itself an object or a list (then its JSON is)
        ident: Hashable = tuple(rep.items())
        try:
            index = seen.get(ident)
        except TypeError:
            ident = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
            index = seen.get(ident)
        if index is None:
            seen[ident] = len(reps)
            reps.append(rep)
            targets.append([obj])
        else:
            targets[index].append(obj)


def merge_entity(obj: dict[str, Any], entity: dict[str, Any], sent: Any) -> None:
    answered = entity.get("__typename")
    if answered is not None and obj.get("__typename") == sent:
        # an @interfaceObject's object, sent as the interface, comes back as what it is
        obj["__typename"] = answered
    deep_merge(obj, entity)
