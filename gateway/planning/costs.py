"""The planner's search: the fewest fetches that plan a selection from a (subgraph, type) node.

Planning walks the operation over the graph of (subgraph, type) nodes that composition's
satisfiability check walks too: a field is an edge within a subgraph, an entity key an edge
between subgraphs. The choice made at one position decides what is possible below it: a field
of a value type that only one subgraph has can only be reached by going back to the nearest
entity above it and fetching the whole value from that subgraph. So wherever the planner has a
choice (resolve a field in place or move, which subgraph to move to, which subgraph answers a
shareable root field) it asks `Costs` for the fewest fetches each option takes for the whole
subtree below it, INFEASIBLE when no sequence of fetches can answer it, and takes the cheapest
option (the one in place on a tie).

Each field is weighed resolved in place, and moved through chains of key jumps into every
subgraph that resolves it (`reach`: a key is usable once each of its fields is resolvable in a
subgraph already reached, so bridges through intermediate subgraphs are found). @requires are
weighed as fields planned at the parent's position, as the planner plans them.

Bounded: costs are memoized per (selection, subgraph, provided fields), reachability per (type,
subgraph, provided fields), so the search is polynomial in the size of the operation and the
number of subgraphs; and one operation's search may take at most MAX_STEPS steps (one step: one
option weighed or one key tried), past which planning fails with QUERY_PLANNING_FAILED instead
of running on (a pathological supergraph never makes planning explode).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from graphql import SelectionSetNode, print_ast

from gateway.errors import PlanningError
from gateway.operation import INTROSPECTION_FIELDS, NField, NSelection
from gateway.planning.interface_objects import interface_object_split
from gateway.planning.provided import fragment_provided, has_fragments
from gateway.schema.supergraph import Key

if TYPE_CHECKING:
    from gateway.planning.planner import PlanRun

INFEASIBLE = 1 << 40
MAX_STEPS = 200_000


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an entity call would start: objects of `type_name` in `graph`'s answer, with what
    an enclosing @provides gives there and the fields whose @requires the representations at
    hand already carry (`met`)."""

    type_name: str
    graph: str
    provided: SelectionSetNode | None
    met: frozenset[str] = frozenset()


class Costs:
    def __init__(self, run: PlanRun) -> None:
        self.run = run
        self.sg = run.sg
        self.steps = 0
        # (id of the selection, subgraph, provided) -> (the selection, kept alive; its cost)
        self._selections: dict[
            tuple[int, str, str | None, frozenset[str] | None], tuple[NSelection, int]
        ] = {}
        # (type, subgraph, provided) -> subgraph -> (fetches to get there, the key it takes)
        self._reach: dict[tuple[str, str, str | None], dict[str, tuple[int, Key | None]]] = {}
        self._provided: dict[int, tuple[SelectionSetNode, str]] = {}
        self._requiring: set[tuple[str, str, str]] = set()
        # a cost found while a requirement was being weighed inside itself is not memoized
        self._tainted = False

    def step(self, count: int = 1) -> None:
        """Counts planning work done outside the search against the same budget."""
        self._step(count)

    def _step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise PlanningError(
                f"query planning stopped after {MAX_STEPS} search steps: the operation is too "
                "large for this supergraph's web of keys"
            )

    def _provided_key(self, provided: SelectionSetNode | None) -> str | None:
        if provided is None:
            return None
        known = self._provided.get(id(provided))
        if known is None:
            known = self._provided[id(provided)] = (provided, print_ast(provided))
        return known[1]

    # -- selections and fields -----------------------------------------------------------------

    def selection(
        self,
        nsel: NSelection,
        graph: str,
        provided: SelectionSetNode | None,
        known: frozenset[str] | None = None,
    ) -> int:
        """Fetches needed (beyond the one at `graph`) to answer `nsel` from there; `known`: the
        concrete types the field above can return from there (see `PlanRun.returned_types`)."""
        key = (id(nsel), graph, self._provided_key(provided), known)
        hit = self._selections.get(key)
        if hit is not None:
            return hit[1]
        self._step()
        outer, self._tainted = self._tainted, False
        cost = self._selection(nsel, graph, provided, known)
        if not self._tainted:
            self._selections[key] = (nsel, cost)
        self._tainted |= outer
        return cost

    def _selection(
        self,
        nsel: NSelection,
        graph: str,
        provided: SelectionSetNode | None,
        known: frozenset[str] | None,
    ) -> int:
        run = self.run
        if not nsel.abstract:
            fields = nsel.by_type.get(nsel.type_name, {})
            if has_fragments(provided):
                provided = fragment_provided(provided, nsel.type_name, run.applies)
            return self.fields(nsel.type_name, fields.values(), graph, provided)
        if graph in self.sg.interface_objects.get(nsel.type_name, frozenset()):
            return self._interface_object(nsel, graph, provided)
        total = 0
        if known is None:
            known = run.possible_in_graph(nsel.type_name, graph)
        moved_to: set[str] = set()  # one entity call per subgraph serves every concrete type
        for concrete, fields in nsel.by_type.items():
            if concrete in known:
                here = fragment_provided(provided, concrete, run.applies)
                total += self.fields(concrete, fields.values(), graph, here, moved_to=moved_to)
        return min(total, INFEASIBLE)

    def _interface_object(
        self, nsel: NSelection, graph: str, provided: SelectionSetNode | None
    ) -> int:
        run = self.run
        interface = nsel.type_name
        shared, rest, owner = interface_object_split(run, nsel, graph)
        cost = self.fields(interface, shared.values(), graph, provided)
        if rest is None:
            return cost
        if owner is None or run.local_key(interface, interface, graph, owner, provided) is None:
            return INFEASIBLE
        cost += 1
        for concrete, fields in rest.items():
            cost += self.fields(concrete, fields, owner, None)
        return min(cost, INFEASIBLE)

    def fields(
        self,
        type_name: str,
        fields: Iterable[NField],
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
        moved_to: set[str] | None = None,
    ) -> int:
        """Fetches needed for these fields of one position; fields moved to one subgraph share
        its fetch (`moved_to`: the subgraphs already moved to from this position)."""
        total = 0
        if moved_to is None:
            moved_to = set()
        for f in fields:
            if f.is_typename or f.name in INTROSPECTION_FIELDS or f in self.run.denied:
                continue
            cost, target = self.field(type_name, f, graph, provided, met)
            if target is not None and target in moved_to:
                cost -= 1
            elif target is not None:
                moved_to.add(target)
            total += cost
            if total >= INFEASIBLE:
                return INFEASIBLE
        return total

    def field(
        self,
        type_name: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
    ) -> tuple[int, str | None]:
        """The cheapest way to answer `f` at this position: (fetches, the subgraph it moves to,
        or None when it is answered in place)."""
        best = self.in_place(type_name, f, graph, provided, met)
        if best == 0:
            return 0, None
        cost, target = self.moved(type_name, f, graph, provided, met, below=best)
        if cost < best:
            return cost, target
        if best >= INFEASIBLE and f.selection is not None:
            divided = self.divide(type_name, f, graph, provided, met)
            if divided is not None:
                return divided[0], None
        return best, None

    def route(
        self,
        type_name: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
    ) -> tuple[NField | None, list[NField]] | None:
        """How the planner answers a field with a selection: None to do as usual (in place if
        this subgraph resolves it, else by one entity call), or (the part answered in place, the
        parts to answer by entity calls), each part the field with a share of its selection."""
        assert f.selection is not None
        here = self.in_place(type_name, f, graph, provided, met)
        if here == 0:
            return None
        away, _ = self.moved(type_name, f, graph, provided, met, below=here)
        if away < here:
            return None, [f]
        if here < INFEASIBLE:
            return None
        divided = self.divide(type_name, f, graph, provided, met)
        if divided is None:
            return None
        parts = divided[1]
        in_place = parts.pop(graph, None)
        local = replace(f, selection=in_place) if in_place is not None else None
        return local, [replace(f, selection=part) for part in parts.values()]

    def divide(
        self,
        type_name: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
    ) -> tuple[int, dict[str, NSelection]] | None:
        """A field whose value no one subgraph answers whole: each of its fields (down through
        value types) from a subgraph that has the field, in place or through the parent's key,
        e.g. an inspector's staff number from here and his name from a subgraph that keys
        inspectors by a badge this one lacks. (cost, subgraph -> its share), or None."""
        assert f.selection is not None
        run = self.run
        options: list[tuple[str, int, SelectionSetNode | None]] = []
        if run.local(type_name, f.name, graph, provided) and (
            f.name in met or not run.requires(type_name, f.name, graph)
        ):
            options.append((graph, 0, run.child_provided(type_name, f.name, graph, provided)))
        for target in run.graph_order:
            if target == graph:
                continue
            origin = Origin(type_name, graph, provided, met)
            entry = self.move_to(origin, f, target, enter_only=True)
            if entry < INFEASIBLE:
                entity_type = self.sg.entity_type(type_name, target)
                inner = run.child_provided(entity_type, f.name, target, None)
                options.append((target, entry, inner))
        if len(options) < 2:
            return None
        cost, parts = self._divide(f.selection, options)
        return (cost, parts) if cost < INFEASIBLE else None

    def _divide(
        self, nsel: NSelection, options: list[tuple[str, int, SelectionSetNode | None]]
    ) -> tuple[int, dict[str, NSelection]]:
        """`nsel`'s fields shared out over `options` (subgraph, fetches to enter it, what is
        provided there): each field to the cheapest that answers it whole, or divided further."""
        run = self.run
        paid: set[str] = set()
        # subgraph -> concrete type -> response key -> field: each share, until it is made one
        parts: dict[str, dict[str, dict[str, NField]]] = {}
        total = 0

        def put(graph: str, concrete: str, f: NField) -> None:
            parts.setdefault(graph, {}).setdefault(concrete, {})[f.response_key] = f
            paid.add(graph)

        for concrete, fields in nsel.by_type.items():
            here = [
                (g, entry, fragment_provided(p, concrete, run.applies) if nsel.abstract else p)
                for g, entry, p in options
                if not nsel.abstract or concrete in run.possible_in_graph(nsel.type_name, g)
            ]
            for f in fields.values():
                if f.is_typename or f.name in INTROSPECTION_FIELDS or f in self.run.denied:
                    continue
                self._step()
                best, where = INFEASIBLE, None
                for g, entry, p in here:
                    cost = self.in_place(concrete, f, g, p) + (0 if g in paid else entry)
                    if cost < best:
                        best, where = cost, g
                if where is not None:
                    total += best
                    put(where, concrete, f)
                    continue
                if f.selection is None:
                    return INFEASIBLE, {}
                below = [
                    (g, 0 if g in paid else entry, run.child_provided(concrete, f.name, g, p))
                    for g, entry, p in here
                    if run.local(concrete, f.name, g, p) and not run.requires(concrete, f.name, g)
                ]
                cost, shares = (
                    self._divide(f.selection, below)
                    if len(below) > 1
                    else (
                        INFEASIBLE,
                        {},
                    )
                )
                if cost >= INFEASIBLE:
                    return INFEASIBLE, {}
                total += cost
                for g, share in shares.items():
                    put(g, concrete, replace(f, selection=share))
        for part in parts.values():  # __typename wherever the object is answered
            for concrete, fields in nsel.by_type.items():
                for key, f in fields.items():
                    if f.is_typename:
                        part.setdefault(concrete, {})[key] = f
        shares = {g: NSelection(nsel.type_name, nsel.abstract, part) for g, part in parts.items()}
        return min(total, INFEASIBLE), shares

    def in_place(
        self,
        type_name: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
    ) -> int:
        run = self.run
        if not run.local(type_name, f.name, graph, provided):
            return INFEASIBLE
        if f.name not in met and run.requires(type_name, f.name, graph):
            return INFEASIBLE  # a field with @requires is only answered by an entity call
        if f.selection is None:
            return 0
        below = run.child_provided(type_name, f.name, graph, provided)
        known = run.returned_types(type_name, f, graph)
        return self.selection(f.selection, graph, below, known)

    def moved(
        self,
        type_name: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        met: frozenset[str] = frozenset(),
        below: int = INFEASIBLE,
    ) -> tuple[int, str | None]:
        """The cheapest entity call that answers `f` (cheaper than `below`), and its subgraph."""
        best, target = below, None
        origin = Origin(type_name, graph, provided, met)
        for h in self.run.graph_order:
            cost = self.move_to(origin, f, h, best)
            if cost < best:
                best, target = cost, h
        return (best, target) if target is not None else (INFEASIBLE, None)

    def move_to(
        self,
        origin: Origin,
        f: NField,
        target: str,
        below: int = INFEASIBLE,
        enter_only: bool = False,
    ) -> int:
        """Fetches for answering `f` by an entity call from `origin` into `target` (INFEASIBLE
        if that cannot be done, or would not be cheaper than `below`); `enter_only`: the fetches
        to get there and what `f` requires, without its selection."""
        type_name, graph, provided, met = (
            origin.type_name,
            origin.graph,
            origin.provided,
            origin.met,
        )
        run = self.run
        sg = self.sg
        entity_type = sg.entity_type(type_name, target)
        if not run.can(entity_type, f.name, target) or not sg.resolvable_keys(entity_type, target):
            return INFEASIBLE
        self._step()
        if target == graph:
            # back into the same subgraph: only to hand it what the field @requires
            if f.name in met or not run.requires(type_name, f.name, graph):
                return INFEASIBLE
            cost = 1
        else:
            hop = self.reach(type_name, graph, provided).get(target)
            if hop is None:
                return INFEASIBLE
            cost = hop[0]
        if cost >= below:
            return INFEASIBLE
        info = self.sg.field_in_graph(entity_type, f.name, target)
        if info is not None and info.requires is not None:
            cost += self._requirements(type_name, entity_type, f, graph, provided, target)
            if cost >= below:
                return INFEASIBLE
        if f.selection is not None and not enter_only:
            inner = run.child_provided(entity_type, f.name, target, None)
            known = run.returned_types(entity_type, f, target)
            cost += self.selection(f.selection, target, inner, known)
        return cost if cost < below else INFEASIBLE

    def _requirements(
        self,
        type_name: str,
        entity_type: str,
        f: NField,
        graph: str,
        provided: SelectionSetNode | None,
        target: str,
    ) -> int:
        """Fetches for what `f` @requires in `target`, planned at the parent's position."""
        guard = (type_name, f.name, target)
        if guard in self._requiring:
            self._tainted = True
            return INFEASIBLE
        self._requiring.add(guard)
        try:
            needed = self.run.required_fields(type_name, entity_type, f.name, target)
            return self.fields(type_name, needed, graph, provided)
        finally:
            self._requiring.discard(guard)

    # -- moving between subgraphs --------------------------------------------------------------

    def reach(
        self, type_name: str, graph: str, provided: SelectionSetNode | None
    ) -> dict[str, tuple[int, Key | None]]:
        """The subgraphs an object of `type_name` at `graph` can be moved to by entity calls:
        each with the fetches it takes to get there (chains of keys: a key whose fields are all
        resolvable in subgraphs already reached), and the key of the last step."""
        cache_key = (type_name, graph, self._provided_key(provided))
        known = self._reach.get(cache_key)
        if known is not None:
            return known
        run = self.run
        reached: dict[str, tuple[int, Key | None]] = {graph: (0, None)}
        changed = True
        while changed:
            changed = False
            for target in run.graph_order:
                entity_type = self.sg.entity_type(type_name, target)
                for key in self.sg.resolvable_keys(entity_type, target):
                    self._step()
                    hops = self._key_hops(type_name, key, reached, graph, provided)
                    if hops + 1 < reached.get(target, (INFEASIBLE, None))[0]:
                        reached[target] = (hops + 1, key)
                        changed = True
        self._reach[cache_key] = reached
        return reached

    def _key_hops(
        self,
        type_name: str,
        key: Key,
        reached: dict[str, tuple[int, Key | None]],
        start: str,
        provided: SelectionSetNode | None,
    ) -> int:
        """Fetches after which every field of `key` is at hand (INFEASIBLE if never)."""
        worst = 0
        for node in key.selection.selections:
            best = INFEASIBLE
            for graph, (hops, _) in reached.items():
                if hops < best and self.run.node_local(
                    type_name, node, graph, provided if graph == start else None
                ):
                    best = hops
            if best >= INFEASIBLE:
                return INFEASIBLE
            worst = max(worst, best)
        return worst
