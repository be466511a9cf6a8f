"""The fetches of a plan while it is being built, and their finished, immutable form."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import VariableDefinitionNode

from gateway.operation import NOperation
from gateway.planning.conflicts import alias_conflicts
from gateway.planning.internal_fields import merge_reps, reps_fit
from gateway.planning.plan import (
    ContextBinding,
    FetchNode,
    FlatRepresentation,
    PathSegment,
    RepField,
    RepSelection,
)
from gateway.planning.selection import SelectionBuilder
from gateway.schema.supergraph import Supergraph
from gateway.value_text import type_text, value_text


@dataclass(slots=True)
class Fetch:
    id: int
    graph: str
    kind: str
    path: tuple[PathSegment, ...]
    selection: SelectionBuilder = field(default_factory=SelectionBuilder)
    representations: dict[str, dict[str, RepField]] | None = None
    # concrete type -> the __typename its representations carry (an @interfaceObject's name)
    representation_typenames: dict[str, str] = field(default_factory=dict)
    depends_on: set[int] = field(default_factory=set)
    field_keys: list[tuple[str, ...]] = field(default_factory=list)
    # values taken from contexts, and the GraphQL type of each one's variable
    context_bindings: list[ContextBinding] = field(default_factory=list)
    context_types: dict[str, str] = field(default_factory=dict)

    def add_field_keys(self, keys: list[tuple[str, ...]]) -> None:
        self.field_keys.extend(k for k in dict.fromkeys(keys) if k not in self.field_keys)


class Fetches:
    """Every fetch of one plan, and which entity fetch a new need can join."""

    def __init__(self) -> None:
        self.all: list[Fetch] = []
        self._entity: dict[tuple[str, tuple[PathSegment, ...], int], list[Fetch]] = {}

    def new(self, graph: str, kind: str, path: tuple[PathSegment, ...]) -> Fetch:
        fetch = Fetch(len(self.all), graph, kind, path)
        self.all.append(fetch)
        return fetch

    def entity(
        self,
        graph: str,
        path: tuple[PathSegment, ...],
        parent: Fetch,
        type_name: str,
        reps: tuple[RepField, ...],
        deps: set[int],
    ) -> Fetch:
        """An entity fetch to `graph` for the objects at `path` of `parent`'s answer whose
        representations carry `reps` once `deps` have finished.

        It joins an earlier such fetch unless their representations would need one field with
        two values, or joining would make that fetch wait, through `deps`, for itself (a chain
        of @requires that leaves a subgraph and comes back needs two fetches to it).
        """
        index = (graph, path, parent.id)
        for fetch in self._entity.get(index, ()):
            assert fetch.representations is not None
            existing = fetch.representations.get(type_name, {})
            if reps_fit(existing, reps) and not self._waits_for(deps, fetch.id):
                break
        else:
            fetch = self.new(graph, "query", path)
            fetch.representations = {}
            fetch.depends_on.add(parent.id)
            self._entity.setdefault(index, []).append(fetch)
        assert fetch.representations is not None
        merge_reps(fetch.representations.setdefault(type_name, {}), reps)
        fetch.depends_on |= deps - {fetch.id}
        return fetch

    def _waits_for(self, deps: set[int], target: int) -> bool:
        """Whether any of `deps` is `target` or (transitively) waits for it."""
        seen: set[int] = set()
        stack = list(deps)
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node in seen:
                continue
            seen.add(node)
            stack.extend(self.all[node].depends_on)
        return False


def finish(fetch: Fetch, op: NOperation, sg: Supergraph) -> FetchNode:
    renames = alias_conflicts(fetch.selection, sg)
    variables: set[str] = set()
    body = fetch.selection.render(variables)
    declared = [v for v in op.variable_definitions if v in variables]
    var_defs = [_print_variable(op.variable_definitions[name]) for name in declared]
    var_defs += [f"${name}:{type_text}" for name, type_text in fetch.context_types.items()]
    if fetch.representations is not None:
        var_defs.insert(0, "$representations:[_Any!]!")
        text = (
            "query("
            + ",".join(var_defs)
            + "){_entities(representations:$representations){"
            + body
            + "}}"
        )
    else:
        head = fetch.kind + ("(" + ",".join(var_defs) + ")" if var_defs else "")
        text = head + "{" + body + "}"
    reps: RepSelection | None = None
    if fetch.representations is not None:
        reps = {t: tuple(fields.values()) for t, fields in fetch.representations.items()}
    return FetchNode(
        id=fetch.id,
        graph=fetch.graph,
        service=sg.graphs[fetch.graph].name,
        operation_kind=fetch.kind,
        path=fetch.path,
        document=text,
        variable_names=tuple(declared),
        representations=reps,
        representation_typenames=dict(fetch.representation_typenames),
        depends_on=tuple(sorted(fetch.depends_on - {fetch.id})),
        field_keys=tuple(fetch.field_keys),
        variable_defs=tuple(d for d in var_defs if not d.startswith("$representations:")),
        selection=body,
        root_fields=()
        if fetch.representations is not None
        else tuple(dict.fromkeys(e.name for e in fetch.selection.fields.values())),
        flat_representation=_flat(reps),
        renames=renames,
        context_bindings=tuple(fetch.context_bindings),
    )


def _flat(reps: RepSelection | None) -> FlatRepresentation | None:
    """(type, names, response keys, key parts) of representations of one type with only
    scalar fields."""
    if reps is None or len(reps) != 1:
        return None
    ((type_name, fields),) = reps.items()
    fields = tuple(f for f in fields if f.name != "__typename")
    if not fields or any(f.sub is not None for f in fields):
        return None
    names = tuple(f.name for f in fields)
    return type_name, names, tuple(f.key for f in fields), tuple(f.identifies for f in fields)


def _print_variable(definition: VariableDefinitionNode) -> str:
    """`$name:Type=default`: the client's default travels along, since we forward raw values."""
    text = f"${definition.variable.name.value}:{type_text(definition.type)}"
    if definition.default_value is not None:
        text += "=" + value_text(definition.default_value)
    return text
