"""The query planner: a normalized operation -> a DAG of subgraph fetches.

Generic: it reads only supergraph metadata (which graph resolves which field, keys, @requires,
@provides, abstract type membership). The walk, per position in the operation:

- fields the current fetch's subgraph can resolve (or that an enclosing @provides makes
  available) go into that fetch's selection;
- the others are grouped by a subgraph that can resolve them and has a resolvable key for the
  type; each group becomes one `_entities` fetch at this position, whose representations need the
  key fields plus any @requires fields. Those "needed" fields are planned at this same position in
  the current fetch exactly like client fields, so a key or a required field that the current
  subgraph lacks pulls in a further entity fetch, and the dependent fetch waits for it.

Where there is a choice (in place or elsewhere, which subgraph, a value divided over several),
the search of costs.py says which option plans the whole subtree in the fewest fetches. Root
fields: roots.py; @interfaceObject: interface_objects.py; @fromContext: contexts.py; aliases for
one response name with two types in a subgraph document: conflicts.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)

from gateway.errors import PlanningError
from gateway.operation import (
    INTROSPECTION_FIELDS,
    NField,
    NOperation,
    NSelection,
    normalize_selection,
)
from gateway.planning.contexts import ContextFrames, Frame, bind_contexts, contexts_by_type
from gateway.planning.costs import INFEASIBLE, Costs, Origin
from gateway.planning.fetches import Fetches, finish
from gateway.planning.interface_objects import plan_interface_object
from gateway.planning.internal_fields import identifying, internalize, requirements_conflict
from gateway.planning.plan import PathSegment, QueryPlan, RepField
from gateway.planning.position import Position
from gateway.planning.provided import fragment_provided, has_fragments, provided_field
from gateway.planning.roots import plan_mutation, plan_query
from gateway.planning.waves import align_waves
from gateway.schema.supergraph import Key, Supergraph


class Planner:
    def __init__(self, supergraph: Supergraph) -> None:
        self.sg = supergraph
        self._graph_order = list(supergraph.graphs)
        # (type, field, subgraph) -> what the field @requires there, normalized once
        self._required: dict[tuple[str, str, str], list[NField]] = {}
        self._contexts = contexts_by_type(supergraph)

    def plan(
        self,
        operation: NOperation,
        active_labels: frozenset[str] = frozenset(),
        denied: Set[NField] = frozenset(),
    ) -> QueryPlan:
        """`active_labels`: the progressive-override labels switched on for this request;
        `denied`: fields of `operation` the caller may not read (authorisation's), not fetched."""
        run = PlanRun(
            self.sg, self._graph_order, active_labels, self._required, self._contexts, denied
        )
        return run.run(operation)


class PlanRun:
    def __init__(
        self,
        sg: Supergraph,
        graph_order: list[str],
        active_labels: frozenset[str],
        required: dict[tuple[str, str, str], list[NField]],
        contexts: dict[str, frozenset[str]] | None = None,
        denied: Set[NField] = frozenset(),
    ) -> None:
        self.sg = sg
        self.active_labels = active_labels
        # fields the caller may not read: answered null while shaping, never fetched
        self.denied = denied
        self.graph_order = graph_order
        self._required = required
        self._contexts = contexts or {}
        self.costs = Costs(self)
        self.frames = ContextFrames(frozenset())
        self.fetches = Fetches()
        # entity hops being planned whose key has to come from yet another hop (to refuse a
        # cycle of them)
        self._key_hops: set[tuple[str, str, str, tuple[PathSegment, ...]]] = set()

    # -- the whole operation --------------------------------------------------------------

    def run(self, op: NOperation) -> QueryPlan:
        self.frames = ContextFrames(frozenset(op.variable_definitions))
        root_type = op.root_type
        root_fields = list(op.root.by_type[root_type].values())
        has_introspection = any(f.name in INTROSPECTION_FIELDS for f in root_fields)
        # a denied root field is answered null while shaping: no subgraph hears of it
        planned = [
            f
            for f in root_fields
            if not f.is_typename and f.name not in INTROSPECTION_FIELDS and f not in self.denied
        ]
        if op.kind == OperationType.MUTATION:
            plan_mutation(self, root_type, planned)
        else:
            plan_query(self, root_type, planned, op.kind.value)
        finished = tuple(finish(f, op, self.sg) for f in self.fetches.all)
        return QueryPlan(align_waves(finished), has_introspection)

    def can(self, type_name: str, field_name: str, graph: str) -> bool:
        """Whether `graph` resolves `type_name.field_name` (with this request's override labels)."""
        return self.sg.can_resolve(type_name, field_name, graph, self.active_labels)

    def coverage(self, type_name: str, f: NField, graph: str, depth: int) -> int:
        """How many fields of `f`'s subtree (down to `depth`) `graph` resolves itself."""
        if not f.is_typename and not self.can(type_name, f.name, graph):
            return 0
        score = 1
        if f.selection is not None and depth > 0:
            for concrete, fields in f.selection.by_type.items():
                for child in fields.values():
                    score += self.coverage(concrete, child, graph, depth - 1)
        return score

    # -- one position ----------------------------------------------------------------------

    def plan_fields(
        self,
        at: Position,
        fields: Iterable[NField],
        requires_met: frozenset[str] = frozenset(),
        client: dict[str, NField] | None = None,
    ) -> set[int]:
        """Plan `fields` at position `at`; returns the ids of the fetches that deliver them
        (for @requires dependencies). `requires_met`: fields whose @requires this fetch's
        representations carry (at the top of an entity fetch). `client`: the client's fields
        at this position, when `fields` are internal ones (a key or requirement must not take a
        response key the client uses for another field)."""
        fields = list(fields)
        contexts = self._contexts.get(at.path_type or at.type_name) if self._contexts else None
        if contexts:  # fields below may take arguments from these objects
            here = {**(client or {}), **{f.response_key: f for f in fields}}
            frame = Frame(
                contexts, at.fetch, at.sel, at.type_name, at.path, at.provided,
                at.parent_abstract, here,
            )  # fmt: skip
            self.frames.frames.append(frame)
        try:
            return self._plan_position(at, fields, requires_met, client)
        finally:
            if contexts:
                self.frames.frames.pop()

    def _plan_position(
        self,
        at: Position,
        fields: list[NField],
        requires_met: frozenset[str],
        client: dict[str, NField] | None,
    ) -> set[int]:
        fetch, sel, type_name, path, provided = at.fetch, at.sel, at.type_name, at.path, at.provided
        self.costs.step(len(fields))
        used = {fetch.id}
        remote: list[NField] = []
        elsewhere: set[str] = set()  # fields this subgraph has, but not all of their value type
        for f in fields:
            if f.is_typename or f.name in INTROSPECTION_FIELDS or f in self.denied:
                continue  # answered while shaping (denied: null), introspection by the gateway
            local = self.local(type_name, f.name, fetch.graph, provided) and (
                f.name in requires_met or not self.requires(type_name, f.name, fetch.graph)
            )
            route = None
            if f.selection is not None:
                route = self.costs.route(type_name, f, fetch.graph, provided, requires_met)
            if route is not None:  # (part of) the value is better had elsewhere
                in_place, away = route
                remote.extend(away)
                if local:
                    elsewhere.update(part.response_key for part in away)
                if in_place is None:
                    continue
                f = in_place
            if local:
                child_provided = self.child_provided(type_name, f.name, fetch.graph, provided)
                shape = self._shape(type_name, f, fetch.graph)
                entry = sel.field(f.response_key, f.name, f.arguments, shape)
                if f.selection is not None:
                    # (the concrete type, where `type_name` is the @interfaceObject it is sent as)
                    cond = frozenset({at.path_type or type_name}) if at.parent_abstract else None
                    seg = PathSegment(f.response_key, cond)
                    known = self.returned_types(type_name, f, fetch.graph)
                    # internal fields below a client field keep clear of the client's keys
                    # there too (a key under the client's alias of another field)
                    mine = client.get(f.response_key) if client else None
                    child = entry.selection()
                    below = Position(
                        fetch, child, f.selection.type_name, (*path, seg), child_provided
                    )
                    used |= self._plan_selection(
                        below, f.selection, known, mine.selection if mine is not None else None
                    )
            else:
                remote.append(f)
        if remote:
            here = {**(client or {}), **{f.response_key: f for f in fields}}
            used |= self._plan_remote(at, remote, here, elsewhere)
        return used

    def _plan_selection(
        self,
        below: Position,
        nsel: NSelection,
        known: frozenset[str] | None,
        client: NSelection | None,
    ) -> set[int]:
        """Plan `nsel` below a field (`below`: the fetch, selection, path and @provides there);
        `known`: the concrete types that field can return from this subgraph (None: not an
        abstract position). `client`: the client's selection there, when `nsel` is internal
        (see plan_fields)."""
        fetch, sel, path, provided = below.fetch, below.sel, below.path, below.provided
        if not nsel.abstract:
            fields = nsel.by_type.get(nsel.type_name, {})
            if has_fragments(provided):
                provided = fragment_provided(provided, nsel.type_name, self.applies)
            at = Position(fetch, sel, nsel.type_name, path, provided)
            mine = dict(client.by_type.get(nsel.type_name, {})) if client is not None else None
            return self.plan_fields(at, fields.values(), client=mine)
        if fetch.graph in self.sg.interface_objects.get(nsel.type_name, frozenset()):
            return plan_interface_object(self, fetch, sel, nsel, path, provided)
        sel.field("__typename", "__typename")
        used: set[int] = set()
        if known is None:
            known = self.possible_in_graph(nsel.type_name, fetch.graph)
        for concrete, fields in nsel.by_type.items():
            if concrete not in known or not any(not f.is_typename for f in fields.values()):
                continue
            frag_provided = fragment_provided(provided, concrete, self.applies)
            at = Position(fetch, sel.fragment(concrete), concrete, path, frag_provided, True)
            mine = dict(client.by_type.get(concrete, {})) if client is not None else None
            used |= self.plan_fields(at, fields.values(), client=mine)
        return used

    def _shape(self, type_name: str, f: NField, graph: str) -> str:
        """The field's type as `graph` declares it."""
        info = self.sg.field_in_graph(type_name, f.name, graph)
        return info.type if info is not None and info.type else str(f.type)

    def returned_types(self, type_name: str, f: NField, graph: str) -> frozenset[str] | None:
        """The concrete types field `f` of abstract type can return from `graph`: the possible
        types there of the type the subgraph declares it with (which may be narrower than the
        supergraph's: a union member, or an implementation); None if `f` is not abstract."""
        if f.selection is None or not f.selection.abstract:
            return None
        info = self.sg.field_in_graph(type_name, f.name, graph)
        declared = info.type.strip("[]!") if info is not None and info.type else None
        if declared is None or declared == f.selection.type_name:
            return self.possible_in_graph(f.selection.type_name, graph)
        if isinstance(self.sg.schema.get_type(declared), GraphQLObjectType):
            return frozenset({declared})
        return self.possible_in_graph(declared, graph)

    def applies(self, condition: str, concrete: str) -> bool:
        """Whether a fragment on `condition` (an interface or union) applies to `concrete`."""
        abstract = self.sg.schema.get_type(condition)
        if not isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType):
            return False
        target = self.sg.schema.get_type(concrete)
        return isinstance(target, GraphQLObjectType) and self.sg.schema.is_sub_type(
            abstract, target
        )

    def possible_in_graph(self, abstract: str, graph: str) -> frozenset[str]:
        """The concrete types of `abstract` that `graph` knows."""
        known = self.sg.possible_types_in_graph(abstract, graph)
        if known:
            return known
        schema_type = self.sg.api_schema.get_type(abstract)
        return frozenset(
            t.name
            for t in self.sg.api_schema.get_possible_types(schema_type)  # type: ignore[arg-type]
            if graph in self.sg.type_graphs.get(t.name, {})
        )

    def local(
        self, type_name: str, field_name: str, graph: str, provided: SelectionSetNode | None
    ) -> bool:
        """Whether `graph` resolves the field itself or an enclosing @provides gives it."""
        if self.can(type_name, field_name, graph):
            return True
        return provided_field(provided, field_name) is not None

    def requires(self, type_name: str, field_name: str, graph: str) -> bool:
        """A field with @requires (or with arguments from a context) here can only be
        resolved through an entity call that carries the values, never inline in a parent's
        selection."""
        info = self.sg.field_in_graph(type_name, field_name, graph)
        return info is not None and (info.requires is not None or bool(info.context_arguments))

    def child_provided(
        self, type_name: str, field_name: str, graph: str, provided: SelectionSetNode | None
    ) -> SelectionSetNode | None:
        """What is @provided under the field: by the enclosing selection or the field itself."""
        node = provided_field(provided, field_name)
        if node is not None:
            return node.selection_set
        info = self.sg.field_in_graph(type_name, field_name, graph)
        return info.provides if info else None

    # -- entity fetches --------------------------------------------------------------------

    def _plan_remote(
        self,
        at: Position,
        remote: list[NField],
        client: dict[str, NField],
        elsewhere: set[str],
    ) -> set[int]:
        """`remote` fields at `at` through entity fetches; `elsewhere`: response keys that must
        come from another subgraph than this fetch's."""
        fetch, sel, type_name, path, provided = at.fetch, at.sel, at.type_name, at.path, at.provided
        self.costs.step(len(remote) * len(self.graph_order))
        groups: dict[str, list[NField]] = {}
        for f in remote:
            candidates = [
                g
                for g in self.graph_order
                if self.can(self.sg.entity_type(type_name, g), f.name, g)
                and self.sg.resolvable_keys(self.sg.entity_type(type_name, g), g)
                and not (g == fetch.graph and f.response_key in elsewhere)
            ]
            if not candidates:
                raise PlanningError(
                    f"cannot plan {type_name}.{f.name}: no subgraph that resolves it can be "
                    f"reached from subgraph {self.sg.graphs[fetch.graph].name} through a key"
                )
            groups.setdefault(
                self._choose_target(type_name, f, fetch.graph, provided, candidates, groups), []
            ).append(f)
        used: set[int] = set()
        for graph, fields in groups.items():
            # the type as the target knows it: itself, or an @interfaceObject it implements
            entity_type = self.sg.entity_type(type_name, graph)
            key = self.local_key(type_name, entity_type, fetch.graph, graph, provided)
            hop = None
            if key is None:  # its fields must come through a further hop first
                hop = (type_name, graph, fetch.graph, path)
                if hop in self._key_hops:  # a cycle: this hop waits for itself
                    raise PlanningError(
                        f"cannot plan {type_name}: no chain of keys leads from subgraph "
                        f"{self.sg.graphs[fetch.graph].name} to {self.sg.graphs[graph].name}"
                    )
                self._key_hops.add(hop)
                reached = self.costs.reach(type_name, fetch.graph, provided).get(graph)
                key = reached[1] if reached and reached[1] else None
                key = key or self.sg.resolvable_keys(entity_type, graph)[0]
            if self.sg.entity_type(type_name, fetch.graph) == type_name:
                # (a subgraph that knows it only as an @interfaceObject would answer the
                # interface's name and overwrite the concrete type we already have)
                sel.field("__typename", "__typename")
            try:
                for part, requirements in self._requirement_groups(entity_type, graph, fields):
                    reps, deps = self._plan_needed(at, [key.selection, *requirements], client)
                    reps = identifying(reps, key.selection)
                    child = self.fetches.entity(graph, path, fetch, type_name, reps, deps)
                    part, values_from = bind_contexts(self, child, entity_type, part)
                    child.depends_on |= values_from - {child.id}
                    if entity_type != type_name:
                        child.representation_typenames[type_name] = entity_type
                    child.add_field_keys([(f.response_key,) for f in part])
                    fragment = child.selection.fragment(entity_type)
                    met = frozenset(f.name for f in part)
                    inside = Position(
                        child, fragment, entity_type, path, None, at.parent_abstract, type_name
                    )
                    used |= self.plan_fields(inside, part, met)
                    used.add(child.id)
            finally:
                if hop is not None:
                    self._key_hops.discard(hop)
        return used

    def _choose_target(
        self,
        type_name: str,
        f: NField,
        source: str,
        provided: SelectionSetNode | None,
        candidates: list[str],
        groups: dict[str, list[NField]],
    ) -> str:
        """The subgraph an entity call for `f` goes to: the fewest fetches for the field and its
        subtree (joining a call already planned here costs one fewer); on a tie, one whose key
        this subgraph gives directly, most of the subtree resolved there, an existing call."""
        if len(candidates) == 1:
            return candidates[0]

        def score(g: str) -> tuple[int, bool, int, bool, int]:
            cost = self.costs.move_to(Origin(type_name, source, provided), f, g)
            if cost < INFEASIBLE and g in groups:
                cost -= 1
            entity_type = self.sg.entity_type(type_name, g)
            direct = self.local_key(type_name, entity_type, source, g, provided) is not None
            coverage = self.coverage(type_name, f, g, 4)
            return cost, not direct, -coverage, g not in groups, candidates.index(g)

        return min(candidates, key=score)

    def required_fields(
        self, type_name: str, entity_type: str, field_name: str, graph: str
    ) -> list[NField]:
        """What `field_name` @requires in `graph`, as fields of `type_name` (normalized once)."""
        cache_key = (type_name, field_name, graph)
        fields = self._required.get(cache_key)
        if fields is None:
            info = self.sg.field_in_graph(entity_type, field_name, graph)
            assert info is not None and info.requires is not None
            schema_type = self.sg.schema.get_type(type_name)
            nsel = normalize_selection(
                self.sg.schema,
                schema_type,  # type: ignore[arg-type]
                [info.requires],
            )
            by_type = nsel.by_type.get(type_name) or next(iter(nsel.by_type.values()), {})
            fields = self._required[cache_key] = list(by_type.values())
        return fields

    def _requirement_groups(
        self, entity_type: str, graph: str, fields: list[NField]
    ) -> list[tuple[list[NField], list[SelectionSetNode]]]:
        """Fields for one subgraph, grouped so that each group's @requires fit in one
        representation: `taxCredit2023` needing `income(year: 2023)` and `taxCredit2024`
        needing `income(year: 2024)` go in two entity fetches, each with its own income.

        Fields without @requires come first, on their own: they need only the key, so they
        never wait for a requirement (when they can, the fetches join again in `Fetches`)."""
        free: list[NField] = []
        groups: list[tuple[list[NField], list[SelectionSetNode]]] = []
        for f in fields:
            info = self.sg.field_in_graph(entity_type, f.name, graph)
            requires = info.requires if info is not None else None
            if requires is None:
                free.append(f)
                continue
            for part, requirements in groups:
                if not requirements_conflict(requirements, requires):
                    part.append(f)
                    requirements.append(requires)
                    break
            else:
                groups.append(([f], [requires]))
        return [(free, []), *groups] if free else groups

    def local_key(
        self,
        type_name: str,
        entity_type: str,
        source: str,
        target: str,
        provided: SelectionSetNode | None,
    ) -> Key | None:
        """A key of the target whose fields the source subgraph resolves itself."""
        for key in self.sg.resolvable_keys(entity_type, target):
            if self._selection_local(type_name, key.selection, source, provided):
                return key
        return None

    def _selection_local(
        self,
        type_name: str,
        selection: SelectionSetNode,
        graph: str,
        provided: SelectionSetNode | None,
    ) -> bool:
        return all(
            self.node_local(type_name, node, graph, provided) for node in selection.selections
        )

    def node_local(
        self,
        type_name: str,
        node: SelectionNode,
        graph: str,
        provided: SelectionSetNode | None,
    ) -> bool:
        """Whether the subgraph resolves this part of a field set (a key) itself."""
        if isinstance(node, InlineFragmentNode):
            cond = node.type_condition.name.value if node.type_condition else type_name
            return self._selection_local(cond, node.selection_set, graph, None)
        assert isinstance(node, FieldNode)
        name = node.name.value
        if name == "__typename":
            return True
        if not self.local(type_name, name, graph, provided):
            return False
        if node.selection_set is None:
            return True
        schema_type = self.sg.schema.get_type(type_name)
        field_type = get_named_type(schema_type.fields[name].type)  # type: ignore[union-attr]
        assert field_type is not None
        child_provided = self.child_provided(type_name, name, graph, provided)
        return self._selection_local(field_type.name, node.selection_set, graph, child_provided)

    def _plan_needed(
        self, at: Position, needed: list[SelectionSetNode], client: dict[str, NField]
    ) -> tuple[tuple[RepField, ...], set[int]]:
        """Key and @requires fields, planned at this position as internal fields."""
        schema_type = self.sg.schema.get_type(at.type_name)
        nsel = normalize_selection(self.sg.schema, schema_type, needed)  # type: ignore[arg-type]
        fields, reps = internalize(nsel.by_type[at.type_name], at.sel, client)
        # (the position as it was, without the interface object's path type)
        here = Position(at.fetch, at.sel, at.type_name, at.path, at.provided, at.parent_abstract)
        deps = self.plan_fields(here, fields, client=client)
        return reps, deps
