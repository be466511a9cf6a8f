"""SATISFIABILITY_ERROR: every field a client can reach must be resolvable by some sequence of
subgraph fetches.

The check walks the API schema from the root types. At each client path it keeps the set of
positions a plan could be at: (subgraph, what an enclosing @provides makes available there). A
field is satisfiable from a position if that subgraph resolves it, or if another subgraph that
resolves it can be reached through @key jumps whose key fields are at hand. Abstract types are
also entered through each possible concrete type (`... on Impl`), and an interface field no
position resolves directly is satisfiable when every possible implementation resolves it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.composition.contexts import context_reference, qualified
from gateway.composition.errors import ErrorLog
from gateway.composition.field_sets import FieldSetSyntaxError, parse_field_set
from gateway.composition.join_metadata import effectively_external
from gateway.composition.subgraph_model import Field, Kind, TypeDef
from gateway.composition.supergraph_model import MergedInputValue, MergedSchema, MergedType
from gateway.composition.type_refs import named

# What a @provides makes available: (type condition or None, field, what is provided below it)
Provision = frozenset[tuple[str | None, str, "Provision"]]
NOTHING: Provision = frozenset()
Position = tuple[str, Provision]  # (graph, provision)
MAX_ERRORS = 20


def _provision(selection: SelectionSetNode, condition: str | None = None) -> Provision:
    out: set[tuple[str | None, str, Provision]] = set()
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            inner = node.type_condition.name.value if node.type_condition else condition
            out |= _provision(node.selection_set, inner)
        elif isinstance(node, FieldNode):
            below = _provision(node.selection_set) if node.selection_set else NOTHING
            out.add((condition, node.name.value, below))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class _Step:
    """One element of the client path that leads to a problem, for the example query."""

    text: str


# what the walk visits: (type, positions, client path, contexts set above)
_Entry = tuple[str, frozenset[Position], tuple[_Step, ...], frozenset[str]]


class _Checker:
    def __init__(self, schema: MergedSchema, log: ErrorLog) -> None:
        self.schema = schema
        self.log = log
        self.errors = 0
        self.reported: set[tuple[str, str]] = set()
        self.hidden = {n for n, t in schema.types.items() if t.inaccessible}
        self._overridden: dict[tuple[str, str], set[str]] = {}
        self.labels_on = False
        self._reached: dict[tuple[str, Position], dict[str, Provision]] = {}
        self._requiring: set[tuple[str, str, str, Position]] = set()
        # (type, field, graph) whose @requires some position could not meet
        self.unmet_requires: set[tuple[str, str, str]] = set()
        # contexts (@context) set by the types on the client path being walked
        self.active: frozenset[str] = frozenset()
        self.missing_context = False
        self._type_contexts: dict[str, frozenset[str]] = {}

    # -- what one subgraph resolves ------------------------------------------------------

    def _declared(self, type_name: str, field_name: str, graph: str) -> tuple[Field, bool] | None:
        """The field as `graph` declares it on the type, or on an @interfaceObject standing in
        for one of the type's interfaces there (whose key the type must then have at hand);
        with whether it is effectively @external there."""
        subgraph = self.schema.subgraphs[graph]
        type_def = subgraph.types.get(type_name)
        field = type_def.fields.get(field_name) if type_def else None
        if field is not None and type_def is not None:
            return field, effectively_external(self.schema, subgraph, type_def, field)
        merged = self.schema.types.get(type_name)
        for interface in merged.interfaces if merged else ():
            stand_in = subgraph.types.get(interface)
            if stand_in is None or not stand_in.interface_object:
                continue
            field = stand_in.fields.get(field_name)
            if field is not None and self._has_key_of(type_name, stand_in, graph):
                return field, effectively_external(self.schema, subgraph, stand_in, field)
        return None

    def _has_key_of(self, type_name: str, stand_in: TypeDef, graph: str) -> bool:
        """Positions at an interface object's graph that lack the type itself were reached
        with its key; where the graph has the type too, the key must be at hand on it."""
        if type_name not in self.schema.subgraphs[graph].types:
            return True
        for key in stand_in.keys:
            try:
                selection = parse_field_set(key.fields)
            except FieldSetSyntaxError:
                continue
            if self._selection_local(type_name, selection, graph, NOTHING):
                return True
        return False

    def _overridden_in(self, type_name: str, field_name: str) -> set[str]:
        """Graphs that do not resolve the field in the current world: the source of an
        @override, and for a progressive one, the side its label (on or off) does not pick."""
        key = (type_name, field_name)
        if key not in self._overridden:
            merged = self.schema.types[type_name].fields.get(field_name)
            out: set[str] = set()
            for graph, declared in merged.by_graph.items() if merged else ():
                if not declared.override:
                    continue
                source = self.schema.graph_named(declared.override)
                if declared.override_label is None or self.labels_on:
                    out |= {source} if source is not None else set()
                else:
                    out.add(graph)
            self._overridden[key] = out
        return self._overridden[key]

    def _local(
        self, type_name: str, field_name: str, graph: str, provided: Provision
    ) -> Field | None:
        declared = self._declared(type_name, field_name, graph)
        if declared is None:
            return None
        field, external = declared
        if external and not self._provided(provided, type_name, field_name):
            return None
        if graph in self._overridden_in(type_name, field_name):
            return None
        return field

    def _provided(self, provided: Provision, type_name: str, field_name: str) -> bool:
        return any(name == field_name for _, name, _ in self._applicable(provided, type_name))

    def _applicable(
        self, provided: Provision, type_name: str
    ) -> Iterator[tuple[str | None, str, Provision]]:
        merged = self.schema.types.get(type_name)
        interfaces = set(merged.interfaces) if merged else set()
        for entry in provided:
            condition = entry[0]
            if condition is None or condition == type_name or condition in interfaces:
                yield entry

    def _below(self, provided: Provision, type_name: str, field: Field, graph: str) -> Provision:
        inherited = [b for _, n, b in self._applicable(provided, type_name) if n == field.name]
        if inherited:
            return frozenset().union(*inherited)
        if field.provides:
            try:
                return _provision(parse_field_set(field.provides))
            except FieldSetSyntaxError:
                return NOTHING
        return NOTHING

    def _selection_local(
        self, type_name: str, selection: SelectionSetNode, graph: str, provided: Provision
    ) -> bool:
        """Can `graph` itself answer this selection (a key) at this position?"""
        for node in selection.selections:
            if isinstance(node, InlineFragmentNode):
                target = node.type_condition.name.value if node.type_condition else type_name
                if not self._selection_local(target, node.selection_set, graph, provided):
                    return False
                continue
            if not isinstance(node, FieldNode) or node.name.value == "__typename":
                continue
            field = self._local(type_name, node.name.value, graph, provided)
            if field is None:
                return False
            if node.selection_set is not None:
                below = self._below(provided, type_name, field, graph)
                if not self._selection_local(named(field.type), node.selection_set, graph, below):
                    return False
        return True

    # -- jumps between subgraphs ---------------------------------------------------------

    def _keys_into(self, type_name: str) -> list[tuple[str, str]]:
        """(graph, key fields) of every resolvable key a plan can jump with into `type_name`."""
        merged = self.schema.types[type_name]
        out = [
            (g, key.fields) for g, t in merged.by_graph.items() for key in t.keys if key.resolvable
        ]
        for interface in merged.interfaces:
            interface_type = self.schema.types.get(interface)
            if interface_type is None:
                continue
            for g in interface_type.interface_object_graphs:
                out += [(g, k.fields) for k in interface_type.by_graph[g].keys if k.resolvable]
        return out

    def _reachable(self, type_name: str, start: Position) -> dict[str, Provision]:
        """Graphs reachable from a position through key jumps (with what is provided there)."""
        key = (type_name, start)
        if key not in self._reached:
            self._reached[key] = self._jumps(type_name, start)
        return self._reached[key]

    def _jumps(self, type_name: str, start: Position) -> dict[str, Provision]:
        reached = {start[0]: start[1]}
        keys = self._keys_into(type_name)
        frontier = deque([start[0]])
        while frontier:
            graph = frontier.popleft()
            for target, fields in keys:
                if target in reached:
                    continue
                try:
                    selection = parse_field_set(fields)
                except FieldSetSyntaxError:
                    continue
                if self._selection_local(type_name, selection, graph, reached[graph]):
                    reached[target] = NOTHING
                    frontier.append(target)
        return reached

    # -- the walk ------------------------------------------------------------------------

    def _next_positions(
        self, type_name: str, field_name: str, positions: frozenset[Position]
    ) -> set[Position]:
        out: set[Position] = set()
        for position in positions:
            for graph, provided in self._reachable(type_name, position).items():
                field = self._local(type_name, field_name, graph, provided)
                if field is None or not self._context_set(field, graph):
                    continue
                if field.requires and not self._requires_met(type_name, field, graph, position):
                    continue
                out.add((graph, self._below(provided, type_name, field, graph)))
        return out

    def _context_set(self, field: Field, graph: str) -> bool:
        """A field with @fromContext arguments is reachable only below a type that sets their
        contexts (in the client's path)."""
        subgraph = self.schema.subgraphs[graph]
        for arg in field.args.values():
            reference = context_reference(arg.from_context) if arg.from_context else None
            if reference is not None and qualified(subgraph, reference[0]) not in self.active:
                self.missing_context = True
                return False
        return True

    def _contexts_of(self, type_name: str) -> frozenset[str]:
        """Contexts a value of this type sets: its own, its interfaces' and its unions'."""
        if type_name not in self._type_contexts:
            merged = self.schema.types[type_name]
            around = [
                merged,
                *(self.schema.types[i] for i in merged.interfaces if i in self.schema.types),
                *(
                    t
                    for t in self.schema.types.values()
                    if t.kind == Kind.UNION and type_name in t.members
                ),
            ]
            self._type_contexts[type_name] = frozenset(
                qualified(self.schema.subgraphs[g], c)
                for t in around
                for g, d in t.by_graph.items()
                for c in d.contexts
            )
        return self._type_contexts[type_name]

    def _requires_met(self, type_name: str, field: Field, graph: str, start: Position) -> bool:
        """Can a plan at `start` fetch what `field` @requires in `graph` (from anywhere)?"""
        guard = (type_name, field.name, graph, start)
        if guard in self._requiring or field.requires is None:
            return True  # a cycle of requirements is judged where it starts
        try:
            selection = parse_field_set(field.requires)
        except FieldSetSyntaxError:
            return False
        self._requiring.add(guard)
        try:
            met = self._selection_satisfiable(type_name, selection, frozenset({start}))
        finally:
            self._requiring.discard(guard)
        if not met:
            self.unmet_requires.add((type_name, field.name, graph))
        return met

    def _selection_satisfiable(
        self, type_name: str, selection: SelectionSetNode, positions: frozenset[Position]
    ) -> bool:
        for node in selection.selections:
            if isinstance(node, InlineFragmentNode):
                target = node.type_condition.name.value if node.type_condition else type_name
                if not self._selection_satisfiable(target, node.selection_set, positions):
                    return False
                continue
            if not isinstance(node, FieldNode) or node.name.value == "__typename":
                continue
            nexts = self._next_positions(type_name, node.name.value, positions)
            if not nexts:
                return False
            merged = self.schema.types[type_name].fields.get(node.name.value)
            if node.selection_set is not None and merged is not None:
                below = named(merged.type)
                if not self._selection_satisfiable(below, node.selection_set, frozenset(nexts)):
                    return False
        return True

    def _possible(self, merged: MergedType, position: Position) -> list[tuple[str, Position]]:
        """Concrete types an abstract type's value may have at a position, with where they
        are. An @interfaceObject does not know the concrete type: a plan learns it from a
        subgraph that has the real interface with a @key, reached with that key."""
        graph, provided = position
        subgraph = self.schema.subgraphs[graph]
        if merged.kind == Kind.UNION:
            return [(m, position) for m, graphs in merged.members.items() if graph in graphs]
        type_def = subgraph.types.get(merged.name)
        if type_def is None or not type_def.interface_object:
            return [(name, position) for name in self._implementations_in(merged.name, graph)]
        out: list[tuple[str, Position]] = []
        for owner, owner_def in merged.by_graph.items():
            if owner_def.interface_object:
                continue
            for key in owner_def.keys:
                try:
                    selection = parse_field_set(key.fields)
                except FieldSetSyntaxError:
                    continue
                if key.resolvable and self._selection_local(
                    merged.name, selection, graph, provided
                ):
                    out += [
                        (n, (owner, NOTHING)) for n in self._implementations_in(merged.name, owner)
                    ]
                    break
        return out

    def _owner_reachable(self, merged: MergedType, position: Position) -> bool:
        """Whether a subgraph that defines the interface (not as an @interfaceObject) with a
        resolvable @key can be reached from the position: it tells the concrete type, even
        when no type implements the interface (yet)."""
        graph, provided = position
        type_def = self.schema.subgraphs[graph].types.get(merged.name)
        if type_def is None or not type_def.interface_object:
            return True
        for owner_def in (t for t in merged.by_graph.values() if not t.interface_object):
            for key in (k for k in owner_def.keys if k.resolvable):
                try:
                    selection = parse_field_set(key.fields)
                except FieldSetSyntaxError:
                    continue
                if self._selection_local(merged.name, selection, graph, provided):
                    return True
        return False

    def _implementations_in(self, interface: str, graph: str) -> list[str]:
        return [
            t.name
            for t in self.schema.subgraphs[graph].types.values()
            if t.kind == Kind.OBJECT and interface in t.interfaces
        ]

    def _exploded(
        self, merged: MergedType, field_name: str, positions: frozenset[Position]
    ) -> bool:
        """An interface field resolved through every implementation a position may return."""
        for position in positions:
            for concrete, at in self._possible(merged, position):
                if not self._next_positions(concrete, field_name, frozenset({at})):
                    return False
        return True

    def run(self) -> None:
        """Walk with every progressive override off, then (if there are any) with all on."""
        labelled = any(
            f.override_label
            for t in self.schema.types.values()
            for m in t.fields.values()
            for f in m.by_graph.values()
        )
        for labels_on in (False, True) if labelled else (False,):
            self.labels_on = labels_on
            self._overridden = {}
            self._reached = {}
            self._walk()

    def _walk(self) -> None:
        queue: deque[_Entry] = deque()
        for root in ("Query", "Mutation", "Subscription"):
            if root in self.schema.types:
                graphs = [g for g, s in self.schema.subgraphs.items() if root in s.types]
                start = () if root == "Query" else (_Step(root.lower()),)  # the operation
                queue.append((root, frozenset((g, NOTHING) for g in graphs), start, frozenset()))
        seen: set[tuple[str, frozenset[Position], frozenset[str]]] = set()
        while queue and self.errors < MAX_ERRORS:
            type_name, positions, path, contexts = queue.popleft()
            contexts = contexts | self._contexts_of(type_name)
            if (type_name, positions, contexts) in seen or not positions:
                continue
            seen.add((type_name, positions, contexts))
            self.active = contexts
            merged = self.schema.types[type_name]
            if merged.kind in (Kind.INTERFACE, Kind.UNION):
                self._enter_concrete(merged, positions, path, contexts, queue)
            for field in merged.fields.values():
                if field.inaccessible or named(field.type) in self.hidden:
                    continue
                step = _Step(field.name + _arguments(field.args))
                self.missing_context = False
                nexts = self._next_positions(type_name, field.name, positions)
                if not nexts:
                    if merged.kind == Kind.INTERFACE and self._exploded(
                        merged, field.name, positions
                    ):
                        continue
                    self._report(merged, field.name, positions, (*path, step))
                    continue
                target = self.schema.types.get(named(field.type))
                if target is not None and target.kind in (Kind.OBJECT, Kind.INTERFACE, Kind.UNION):
                    queue.append((target.name, frozenset(nexts), (*path, step), contexts))

    def _enter_concrete(
        self,
        merged: MergedType,
        positions: frozenset[Position],
        path: tuple[_Step, ...],
        contexts: frozenset[str],
        queue: deque[_Entry],
    ) -> None:
        by_type: dict[str, set[Position]] = {}
        for position in positions:
            possible = self._possible(merged, position)
            if (
                not possible
                and merged.kind == Kind.INTERFACE
                and not self._owner_reachable(merged, position)
            ):
                self._report_opaque(merged, position[0], path)
            for concrete, at in possible:
                by_type.setdefault(concrete, set()).add(at)
        for concrete, concrete_positions in by_type.items():
            if concrete in self.hidden or concrete not in self.schema.types:
                continue
            step = _Step(f"... on {concrete}")
            queue.append((concrete, frozenset(concrete_positions), (*path, step), contexts))

    def _world(self) -> str:
        labelled = [
            (t.name, name)
            for t in self.schema.types.values()
            for name, m in t.fields.items()
            if any(f.override_label for f in m.by_graph.values())
        ]
        if not labelled:
            return ""
        return f"while progressive @override labels are {'on' if self.labels_on else 'off'} "

    def _report_opaque(self, merged: MergedType, graph: str, path: tuple[_Step, ...]) -> None:
        type_def = self.schema.subgraphs[graph].types.get(merged.name)
        if type_def is None or not type_def.interface_object:
            return  # no implementation in that subgraph: nothing to ask for
        name = self.schema.name_of(graph)
        if (merged.name, name) in self.reported:
            return
        self.reported.add((merged.name, name))
        self.errors += 1
        self.log.add(
            "SATISFIABILITY_ERROR",
            f"The following supergraph API query: {_example((*path, _Step('__typename')))} "
            f'cannot be satisfied by the subgraphs because: from subgraph "{name}", where '
            f'"{merged.name}" is an @interfaceObject, no subgraph that defines interface '
            f'"{merged.name}" with a @key can be reached to find the concrete type.',
            subgraphs=[name],
            coordinate=merged.name,
            hint=f'give interface "{merged.name}" the same @key as the @interfaceObject in the '
            "subgraph that defines it and its implementations.",
        )

    def _report(
        self,
        merged: MergedType,
        field_name: str,
        positions: frozenset[Position],
        path: tuple[_Step, ...],
    ) -> None:
        coordinate = f"{merged.name}.{field_name}"
        graphs = sorted({g for g, _ in positions})
        if (coordinate, ",".join(graphs)) in self.reported:
            return
        self.reported.add((coordinate, ",".join(graphs)))
        self.errors += 1
        reasons, hint = self._reasons(merged, field_name, graphs)
        self.log.add(
            "SATISFIABILITY_ERROR",
            f"The following supergraph API query: {_example(path)} cannot be satisfied by the "
            f"subgraphs {self._world()}because: " + "; ".join(reasons) + ".",
            subgraphs=list(
                dict.fromkeys(
                    self.schema.name_of(g) for g in [*graphs, *merged.fields[field_name].by_graph]
                )
            ),
            coordinate=coordinate,
            hint=hint,
        )

    def _reasons(
        self, merged: MergedType, field_name: str, graphs: list[str]
    ) -> tuple[list[str], str]:
        coordinate = f"{merged.name}.{field_name}"
        declared = merged.fields[field_name].by_graph
        blocked = self._overridden_in(merged.name, field_name)
        resolving = [g for g, d in declared.items() if not d.external and g not in blocked]
        if self.missing_context:
            return [
                f"from subgraph {self.schema.quoted([g])}: could not find a match for required "
                f'context for field "{coordinate}"'
                for g in graphs
            ], (
                f'reach "{coordinate}" only below a type that sets the @context its '
                "@fromContext arguments read, or give it another way to resolve it."
            )
        if merged.fields[field_name].from_interface_object:
            stand_ins = [
                f'"{i}" in {self.schema.quoted(self.schema.types[i].interface_object_graphs)}'
                for i in merged.interfaces
                if i in self.schema.types and field_name in self.schema.types[i].fields
            ]
            where = ", ".join(self.schema.quoted([g]) for g in graphs)
            return [
                f'only the @interfaceObject {" and ".join(stand_ins)} resolves "{coordinate}", '
                f"and no resolvable @key of it can be used from subgraph {where}"
            ], (
                "make the @interfaceObject's @key resolvable, or keep the field out of reach "
                "from subgraphs that cannot move to it."
            )
        if not resolving:
            return [f'no subgraph resolves "{coordinate}" then'], (
                "a progressive @override needs the field in both subgraphs: keep it in the "
                "subgraph named in @override(from:) until the label is rolled out fully."
            )
        unmet = sorted(g for t, f, g in self.unmet_requires if (t, f) == (merged.name, field_name))
        reasons = [
            f'cannot satisfy @requires(fields: "{declared[g].requires}") of "{coordinate}" in '
            f'subgraph "{self.schema.name_of(g)}"'
            for g in unmet
        ]
        for graph in graphs:
            name = self.schema.name_of(graph)
            reasons.append(f'from subgraph "{name}": cannot find field "{coordinate}"')
            for target in (g for g in resolving if g not in unmet and g != graph):
                keys = [k for g, k in self._keys_into(merged.name) if g == target]
                target_name = self.schema.name_of(target)
                if not keys:
                    reasons.append(
                        f'cannot move to subgraph "{target_name}", which has field '
                        f'"{coordinate}", because type "{merged.name}" has no resolvable @key there'
                    )
                else:
                    reasons.append(
                        f'cannot move to subgraph "{target_name}" using @key(fields: "{keys[0]}") '
                        f'of "{merged.name}": the key field(s) cannot be resolved from subgraph '
                        f'"{name}"'
                    )
        if unmet:
            return reasons, (
                f'what "{coordinate}" @requires must be reachable where it is asked for: let '
                "the subgraph that resolves it share a @key with the others."
            )
        return reasons, (
            f'let the subgraphs that return "{merged.name}" there also resolve the key fields of '
            f'a subgraph that has "{field_name}" (add a @key both share, or the field itself '
            f'with @shareable), or make "{coordinate}" @inaccessible.'
        )


def _arguments(args: Mapping[str, MergedInputValue]) -> str:
    required = [n for n, a in args.items() if a.type.endswith("!") and a.default is None]
    return "(" + ", ".join(f"{n}: …" for n in required) + ")" if required else ""


def _example(path: tuple[_Step, ...]) -> str:
    operation = ""
    if path and path[0].text in ("mutation", "subscription"):
        operation, path = f"{path[0].text} ", path[1:]
    text = "{ ... }"
    for step in reversed(path):
        text = f"{{ {step.text} {text} }}" if text != "{ ... }" else f"{{ {step.text} }}"
    return operation + text


def check_satisfiability(schema: MergedSchema, log: ErrorLog) -> None:
    _Checker(schema, log).run()
