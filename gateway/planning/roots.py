"""Root fields: which subgraph answers each, and the root fetches.

Query root fields go to as few subgraphs as give each its fewest fetches (a shareable root field
that several subgraphs serve goes where its whole selection plans best); a shareable root object
is split over the subgraphs that own parts of it. Mutation fields run one after another.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from graphql import GraphQLList, get_nullable_type

from gateway.errors import PlanningError
from gateway.operation import NField, NSelection
from gateway.planning.position import Position

if TYPE_CHECKING:
    from gateway.planning.planner import PlanRun


def plan_query(run: PlanRun, root_type: str, fields: list[NField], kind: str) -> None:
    groups: dict[str, list[NField]] = {}
    split: dict[int, tuple[str, ...]] = {}  # id of each part of a split field -> its keys
    chosen = root_graphs(run, root_type, fields)
    for f in fields:
        candidates = root_candidates(run, root_type, f)
        for part_graph, part in _split_shareable(run, f, candidates, chosen[id(f)], split):
            groups.setdefault(part_graph, []).append(part)
    for graph, group in groups.items():
        fetch = run.fetches.new(graph, kind, ())
        fetch.field_keys.extend(_failure_paths(group, split))
        run.plan_fields(Position(fetch, fetch.selection, root_type, ()), group)


def plan_mutation(run: PlanRun, root_type: str, fields: list[NField]) -> None:
    """Mutation root fields run one after another, each with its own entity fetches."""
    previous: list[int] = []
    index = 0
    while index < len(fields):
        graph = root_graphs(run, root_type, [fields[index]])[id(fields[index])]
        group = [fields[index]]
        index += 1
        while index < len(fields) and run.can(root_type, fields[index].name, graph):
            group.append(fields[index])
            index += 1
        start = len(run.fetches.all)
        fetch = run.fetches.new(graph, "mutation", ())
        fetch.depends_on.update(previous)
        fetch.field_keys.extend((f.response_key,) for f in group)
        run.plan_fields(Position(fetch, fetch.selection, root_type, ()), group)
        previous = [f.id for f in run.fetches.all[start:]]


def root_candidates(run: PlanRun, root_type: str, f: NField) -> list[str]:
    graphs = run.sg.resolver_graphs(root_type, f.name, run.active_labels)
    if not graphs:
        raise PlanningError(f"no subgraph resolves {root_type}.{f.name}")
    return [g for g in run.graph_order if g in graphs]


def root_graphs(run: PlanRun, root_type: str, fields: list[NField]) -> dict[int, str]:
    """The subgraph of each root field (by the field's id): each field goes to a subgraph from
    which its whole selection takes the fewest fetches, and among those, to as few subgraphs as
    possible (greedy set cover: the subgraph that can take most of the fields left first; then
    the one resolving most of their subtrees itself, then the first)."""
    best: dict[int, set[str]] = {}
    for f in fields:
        candidates = root_candidates(run, root_type, f)
        costs = {g: run.costs.in_place(root_type, f, g, None) for g in candidates}
        cheapest = min(costs.values())
        best[id(f)] = {g for g, cost in costs.items() if cost == cheapest}

    def score(g: str, left: list[NField]) -> tuple[int, int, int]:
        taken = [f for f in left if g in best[id(f)]]
        coverage = sum(run.coverage(root_type, f, g, 4) for f in taken)
        return len(taken), coverage, -run.graph_order.index(g)

    chosen: dict[int, str] = {}
    left = list(fields)
    while left:
        graph = max({g for f in left for g in best[id(f)]}, key=lambda g: score(g, left))
        for f in left:
            if graph in best[id(f)]:
                chosen[id(f)] = graph
        left = [f for f in left if id(f) not in chosen]
    return chosen


def _split_shareable(
    run: PlanRun,
    f: NField,
    candidates: list[str],
    primary: str,
    split: dict[int, tuple[str, ...]],
) -> list[tuple[str, NField]]:
    """A shareable root object field asked of several subgraphs at once, in parallel.

    `me` resolvable in three subgraphs need not be fetched from one and then entity-fetched
    from the other two: each subgraph answers the part of `me` it owns, all in the first
    round. Only for a single object (lists could differ in order between subgraphs). A field
    that several of those subgraphs resolve entirely (its key, a shared name) goes to each of
    them, so the object keeps its identity when one of them is down. `split` learns the keys
    each part answers.
    """
    nsel = f.selection
    if (
        nsel is None
        or nsel.abstract
        or len(candidates) < 2
        or isinstance(get_nullable_type(f.type), GraphQLList)
    ):
        return [(primary, f)]
    type_name = nsel.type_name
    fields = nsel.by_type.get(type_name, {})
    owner: dict[str, str] = {}  # response key -> the one subgraph that answers it
    for key, child in fields.items():
        graph = primary
        if not child.is_typename and not run.can(type_name, child.name, primary):
            local = [g for g in candidates if run.can(type_name, child.name, g)]
            if local:
                graph = max(local, key=lambda g: run.coverage(type_name, child, g, 4))
        owner[key] = graph
    graphs = list(dict.fromkeys(owner.values()))
    if len(graphs) < 2:
        return [(primary, f)]
    owned = {g: tuple(k for k in fields if owner[k] == g) for g in graphs}
    full = {k: run.coverage(type_name, c, primary, 4) for k, c in fields.items()}
    out: list[tuple[str, NField]] = []
    for graph in graphs:
        chosen = {  # the client's order; shared fields resolved in full here too
            k: c
            for k, c in fields.items()
            if owner[k] == graph or run.coverage(type_name, c, graph, 4) == full[k] > 0
        }
        piece = replace(f, selection=NSelection(type_name, False, {type_name: chosen}))
        split[id(piece)] = owned[graph]
        out.append((graph, piece))
    return out


def _failure_paths(
    fields: list[NField], split: dict[int, tuple[str, ...]]
) -> list[tuple[str, ...]]:
    """Where errors go when a root fetch fails: each root field, or for a shareable field
    split over subgraphs, each of its fields this fetch was to answer."""
    paths: list[tuple[str, ...]] = []
    for f in fields:
        if id(f) in split:
            paths.extend((f.response_key, key) for key in split[id(f)])
        else:
            paths.append((f.response_key,))
    return paths
