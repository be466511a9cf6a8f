"""Arguments taken from a context (@context / @fromContext, Federation 2.8).

A type sets a named context (`type Citizen @context(name: "reader")`); a field argument elsewhere
takes its value from it (`description(language: String @fromContext(field: "$reader {
language }"))`). The argument is not in the API schema: for each object, the gateway takes the
value from the nearest ancestor in the answer whose type sets the context, and passes it to the
subgraph as the argument. So such a field is always answered by an entity call (whose objects
may each have another ancestor), the selection is planned at the ancestor's position like a
@requires, and the fetch binds a variable to it (`ContextBinding`): the executor sends one
`_entities` call per distinct value.

While the planner walks the operation, `ContextFrames` holds the positions above the current one
whose type sets a context, nearest last.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from graphql import (
    ArgumentNode,
    GraphQLObjectType,
    GraphQLUnionType,
    NameNode,
    SelectionSetNode,
    VariableNode,
)

from gateway.operation import NField, normalize_selection
from gateway.planning.fetches import Fetch
from gateway.planning.internal_fields import internalize
from gateway.planning.plan import ContextBinding, PathSegment
from gateway.planning.position import Position
from gateway.planning.selection import SelectionBuilder
from gateway.schema.supergraph import Supergraph

if TYPE_CHECKING:
    from gateway.planning.planner import PlanRun


def contexts_by_type(sg: Supergraph) -> dict[str, frozenset[str]]:
    """Object type -> the contexts its objects set: its own, and those of its interfaces and of
    the unions it is a member of."""
    if not sg.contexts:
        return {}
    out: dict[str, set[str]] = {}
    for name, named in sg.schema.type_map.items():
        if isinstance(named, GraphQLObjectType):
            found = set(sg.contexts.get(name, ()))
            for interface in named.interfaces:
                found |= set(sg.contexts.get(interface.name, ()))
            if found:
                out[name] = found
        elif isinstance(named, GraphQLUnionType) and name in sg.contexts:
            for member in named.types:
                out.setdefault(member.name, set()).update(sg.contexts[name])
    return {name: frozenset(found) for name, found in out.items()}


@dataclass(slots=True)
class Frame:
    """A position whose objects set contexts: where their fields are being planned."""

    contexts: frozenset[str]
    fetch: Fetch
    sel: SelectionBuilder
    type_name: str
    path: tuple[PathSegment, ...]
    provided: SelectionSetNode | None
    parent_abstract: bool
    client: dict[str, NField]


class ContextFrames:
    def __init__(self, taken: frozenset[str]) -> None:
        self.frames: list[Frame] = []
        self._taken = taken  # the client's variable names
        self._count = 0

    def nearest(self, context: str) -> Frame | None:
        for frame in reversed(self.frames):
            if context in frame.contexts:
                return frame
        return None

    def variable(self) -> str:
        while True:
            name = f"_rzctx{self._count}"
            self._count += 1
            if name not in self._taken:
                return name


def bind_contexts(
    run: PlanRun, child: Fetch, entity_type: str, part: list[NField]
) -> tuple[list[NField], set[int]]:
    """The fields of `part` (planned in entity fetch `child`) with their context arguments
    bound to variables of `child`, and the fetches that deliver the values."""
    out: list[NField] = []
    deps: set[int] = set()
    for f in part:
        info = run.sg.field_in_graph(entity_type, f.name, child.graph)
        if info is None or not info.context_arguments:
            out.append(f)
            continue
        extra: list[ArgumentNode] = []
        for argument in info.context_arguments:
            variable = run.frames.variable()
            frame = run.frames.nearest(argument.context)
            if frame is None:  # no ancestor sets it: the argument is null
                binding = ContextBinding(variable, None, None, ())
            else:
                nsel = normalize_selection(
                    run.sg.schema,
                    run.sg.schema.get_type(frame.type_name),  # type: ignore[arg-type]
                    [argument.selection],
                )
                fields, reps = internalize(
                    nsel.by_type.get(frame.type_name, {}), frame.sel, frame.client
                )
                at = Position(
                    frame.fetch,
                    frame.sel,
                    frame.type_name,
                    frame.path,
                    frame.provided,
                    frame.parent_abstract,
                )
                deps |= run.plan_fields(at, fields, client=frame.client)
                types = frozenset({frame.type_name}) if frame.parent_abstract else None
                binding = ContextBinding(variable, frame.path, types, reps)
            child.context_bindings.append(binding)
            child.context_types[variable] = argument.type
            extra.append(
                ArgumentNode(
                    name=NameNode(value=argument.name),
                    value=VariableNode(name=NameNode(value=variable)),
                )
            )
        out.append(replace(f, arguments=(*f.arguments, *extra)))
    return out, deps
