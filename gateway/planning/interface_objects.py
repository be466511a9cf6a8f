"""Planning an interface that a subgraph knows only as an @interfaceObject.

That subgraph answers the fields the interface object has, the same for every implementation;
the concrete type, and the fields of the implementations, come from a subgraph that owns the
interface, through an entity call with the interface's key (`{__typename: "Node", id}`).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Protocol

from graphql import SelectionSetNode

from gateway.errors import PlanningError
from gateway.operation import NField, NSelection, normalize_selection, same_everywhere, same_field
from gateway.planning.fetches import Fetch, Fetches
from gateway.planning.internal_fields import internalize
from gateway.planning.plan import PathSegment
from gateway.planning.position import Position
from gateway.planning.selection import SelectionBuilder
from gateway.schema.supergraph import Key, Supergraph


class InterfaceObjectRun(Protocol):
    """What planning an interface object needs from the plan run (planner.PlanRun has it)."""

    sg: Supergraph
    graph_order: list[str]
    fetches: Fetches
    denied: Set[NField]  # fields the caller may not read: not planned

    def can(self, type_name: str, field_name: str, graph: str) -> bool:
        """Whether `graph` resolves the field."""
        ...

    def requires(self, type_name: str, field_name: str, graph: str) -> bool:
        """Whether the field needs an entity call there (@requires or a context)."""
        ...

    def local_key(
        self,
        type_name: str,
        entity_type: str,
        source: str,
        target: str,
        provided: SelectionSetNode | None,
    ) -> Key | None:
        """A key of `target` whose fields `source` resolves itself."""
        ...

    def plan_fields(self, at: Position, fields: Iterable[NField]) -> set[int]:
        """Plan `fields` at position `at`; the ids of the fetches that deliver them."""
        ...


def interface_object_split(
    run: InterfaceObjectRun, nsel: NSelection, graph: str
) -> tuple[dict[str, NField], dict[str, list[NField]] | None, str | None]:
    """How `nsel` (of an interface that `graph` has as an @interfaceObject) is answered: the
    fields `graph` answers for every implementation alike; the rest per concrete type, or None
    when no concrete type is needed at all; and the subgraph that owns the interface (None if
    none can tell the concrete type)."""
    interface = nsel.type_name
    shared: dict[str, NField] = {}
    conflicting: set[str] = set()
    for selected in nsel.by_type.values():
        for rkey, f in selected.items():
            if f.is_typename or f in run.denied or rkey in conflicting:
                continue
            if not run.can(interface, f.name, graph) or run.requires(interface, f.name, graph):
                continue
            prior = shared.get(rkey)
            if prior is None:
                shared[rkey] = f
            elif not same_field(prior, f):
                conflicting.add(rkey)
                del shared[rkey]
    rest = {
        concrete: [f for key, f in fields.items() if key not in shared and not f.is_typename]
        for concrete, fields in nsel.by_type.items()
    }
    if not any(rest.values()) and same_everywhere(nsel):
        return shared, None, None  # shaping needs no concrete type: every implementation alike
    owner = next(
        (
            g
            for g in run.graph_order
            if g not in run.sg.interface_objects.get(interface, frozenset())
            and run.sg.resolvable_keys(interface, g)
        ),
        None,
    )
    return shared, rest, owner


def plan_interface_object(
    run: InterfaceObjectRun,
    fetch: Fetch,
    sel: SelectionBuilder,
    nsel: NSelection,
    path: tuple[PathSegment, ...],
    provided: SelectionSetNode | None,
) -> set[int]:
    """Plan `nsel` (of an interface that `fetch`'s subgraph has as an @interfaceObject) at
    `path`; returns the ids of the fetches that deliver it, as `PlanRun.plan_fields` does."""
    interface = nsel.type_name
    sel.field("__typename", "__typename")
    shared, rest, owner = interface_object_split(run, nsel, fetch.graph)
    used = run.plan_fields(Position(fetch, sel, interface, path, provided), shared.values())
    if rest is None:
        return used
    if owner is None:
        raise PlanningError(f"no subgraph can tell which type a {interface} object is")
    key = run.local_key(interface, interface, fetch.graph, owner, provided)
    if key is None:
        raise PlanningError(
            f"cannot plan {interface}: subgraph {run.sg.graphs[fetch.graph].name} lacks "
            f"the fields of its key in {run.sg.graphs[owner].name}"
        )
    schema_type = run.sg.schema.get_type(interface)
    key_sel = normalize_selection(
        run.sg.schema,
        schema_type,  # type: ignore[arg-type]
        [key.selection],
    )
    client: dict[str, NField] = {}
    for selected in nsel.by_type.values():
        for k, f in selected.items():
            client.setdefault(k, f)
    key_fields = next(iter(key_sel.by_type.values()), {})
    internal, reps = internalize(key_fields, sel, client)
    deps = run.plan_fields(Position(fetch, sel, interface, path, provided), internal)
    used |= deps
    child = run.fetches.entity(owner, path, fetch, interface, reps, deps)
    child.selection.field("__typename", "__typename")
    child.add_field_keys([(f.response_key,) for fields in rest.values() for f in fields])
    for concrete, fields in rest.items():
        if fields:
            at = Position(child, child.selection.fragment(concrete), concrete, path, None, True)
            used |= run.plan_fields(at, fields)
    used.add(child.id)
    return used
