"""Entity fetches whose fields take arguments from a context (@fromContext; see
planning/contexts.py): the objects at the fetch's path grouped by the values their ancestors give,
and, per group, the fetch with variables of its own, so that the groups can share one request
(as aliased `_entities` calls, like any entity fetches to one subgraph)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson

from gateway.execution.merge import objects_at, representation
from gateway.planning.plan import ContextBinding, FetchNode


def context_groups(
    node: FetchNode, data: dict[str, Any]
) -> list[tuple[FetchNode, dict[str, Any], list[dict[str, Any]]]]:
    """(the fetch, its context variables' values, the objects at its path that take them), per
    distinct set of values, in the order the objects come; with several, each fetch's variables
    are numbered apart."""
    values: dict[int, list[Any]] = {}  # id(object) -> one value per binding
    bindings = node.context_bindings
    for index, binding in enumerate(bindings):
        if binding.ancestor is None:
            continue
        rest = node.path[len(binding.ancestor) :]
        for ancestor in objects_at(data, binding.ancestor):
            if binding.types is not None and ancestor.get("__typename") not in binding.types:
                continue
            value = _value(ancestor, binding)
            for obj in objects_at(ancestor, rest) if rest else [ancestor]:
                values.setdefault(id(obj), [None] * len(bindings))[index] = value
    groups: dict[bytes, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for obj in objects_at(data, node.path):
        found = values.get(id(obj)) or [None] * len(bindings)
        key = orjson.dumps(found, option=orjson.OPT_SORT_KEYS)
        group = groups.get(key)
        if group is None:
            named = {b.variable: v for b, v in zip(bindings, found, strict=True)}
            group = groups[key] = (named, [])
        group[1].append(obj)
    if len(groups) == 1:
        ((values_of_all, objects),) = groups.values()
        return [(node, values_of_all, objects)]
    return [
        (numbered(node, number), {f"{k}_{number}": v for k, v in named.items()}, objects)
        for number, (named, objects) in enumerate(groups.values())
    ]


def _value(ancestor: dict[str, Any], binding: ContextBinding) -> Any:
    """The context's selection on the ancestor: the value of its one field (an object of its
    fields, if it selects several); None where the ancestor lacks it."""
    rep = representation(ancestor, str(ancestor.get("__typename", "")), binding.fields)
    if rep is None:
        return None
    rep.pop("__typename", None)
    if len(rep) == 1:
        return next(iter(rep.values()))
    return rep


def numbered(node: FetchNode, number: int) -> FetchNode:
    """The fetch with its context variables renamed `<name>_<number>`, so that several groups'
    calls can go in one request."""
    document, selection, definitions = node.document, node.selection, node.variable_defs
    for binding in node.context_bindings:
        pattern = re.compile(r"\$" + re.escape(binding.variable) + r"(?![_0-9A-Za-z])")
        renamed = f"${binding.variable}_{number}"
        document = pattern.sub(renamed, document)
        selection = pattern.sub(renamed, selection)
        definitions = tuple(pattern.sub(renamed, d) for d in definitions)
    return replace(node, document=document, selection=selection, variable_defs=definitions)
