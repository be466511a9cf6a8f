"""Aligning entity fetches to one subgraph so that they share a request.

The executor sends the entity fetches that become ready together, per subgraph, as one request.
Two fetches to one subgraph would go out separately when their dependencies finish at different
moments: at different depths of the plan, or at one depth after root fetches of different speed.
Giving both the union of their dependencies makes them ready together. An earlier fetch is only
moved later when nothing waits for it before the later one's round anyway, so the plan's longest
chain of rounds stays as it was.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.errors import PlanningError
from gateway.planning.plan import FetchNode

MAX_ALIGNED = 100  # fetches; above it the (cubic) search for pairs costs more than it saves


def align_waves(fetches: tuple[FetchNode, ...]) -> tuple[FetchNode, ...]:
    if len(fetches) < 3 or len(fetches) > MAX_ALIGNED:
        return fetches
    if any(f.operation_kind != "query" for f in fetches):
        return fetches  # mutations: every fetch stays where its order puts it
    deps = {f.id: set(f.depends_on) for f in fetches}
    changed = False
    while True:
        depth = _depths(deps)
        dependents: dict[int, set[int]] = {i: set() for i in deps}
        for node, before in deps.items():
            for dep in before:
                dependents[dep].add(node)
        pair = _next_pair(fetches, deps, depth, dependents)
        if pair is None:
            break
        union = deps[pair[0]] | deps[pair[1]]
        deps[pair[0]] = set(union)
        deps[pair[1]] = set(union)
        changed = True
    if not changed:
        return fetches
    return tuple(replace(f, depends_on=tuple(sorted(deps[f.id]))) for f in fetches)


def _next_pair(
    fetches: tuple[FetchNode, ...],
    deps: dict[int, set[int]],
    depth: dict[int, int],
    dependents: dict[int, set[int]],
) -> tuple[int, int] | None:
    """Two entity fetches to one subgraph that should, and can, become ready together."""
    for early in fetches:
        if not early.is_entity_fetch:
            continue
        waiting = _reachable(early.id, dependents)
        later = [
            f
            for f in fetches
            if f.is_entity_fetch
            and f.id != early.id
            and f.service == early.service
            and depth[f.id] >= depth[early.id]
            and deps[f.id] != deps[early.id]
            and all(depth[d] > depth[f.id] for d in waiting)
        ]
        if later:
            return early.id, max(later, key=lambda f: depth[f.id]).id
    return None


def _reachable(start: int, dependents: dict[int, set[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(dependents[start])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(dependents[node])
    return seen


def _depths(deps: dict[int, set[int]]) -> dict[int, int]:
    """Each fetch's longest chain of dependencies (iteratively: plans can be long)."""
    depth: dict[int, int] = {}
    for start in deps:
        if start in depth:
            continue
        path = [start]  # the chain being followed: a dependency on it is a cycle
        on_path = {start}
        while path:
            node = path[-1]
            nxt = next((d for d in deps[node] if d not in depth), None)
            if nxt is None:
                depth[node] = 1 + max((depth[d] for d in deps[node]), default=-1)
                on_path.discard(node)
                path.pop()
            elif nxt in on_path:
                raise PlanningError("the plan's fetches wait for each other in a cycle")
            else:
                on_path.add(nxt)
                path.append(nxt)
    return depth
