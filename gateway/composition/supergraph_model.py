"""The merged schema while it is being composed: each type and field with what every subgraph
declares of it (`by_graph`, keyed by join__Graph value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.composition.subgraph_model import (
    Element,
    EnumValue,
    Field,
    InputValue,
    Kind,
    Subgraph,
    TypeDef,
)

if TYPE_CHECKING:
    from gateway.composition.composed_directives import ComposedDirective
    from gateway.composition.demand_control import ListSize
    from gateway.composition.executable_directives import ExecutableDirective


@dataclass(slots=True)
class MergedInputValue(Element):
    name: str = ""
    type: str = ""
    default: str | None = None
    by_graph: dict[str, InputValue] = field(default_factory=dict)


@dataclass(slots=True)
class MergedField(Element):
    name: str = ""
    type: str = ""
    args: dict[str, MergedInputValue] = field(default_factory=dict)
    by_graph: dict[str, Field] = field(default_factory=dict)
    # added to an object type because an @interfaceObject adds it to one of its interfaces
    from_interface_object: bool = False
    list_size: ListSize | None = None


@dataclass(slots=True)
class MergedEnumValue(Element):
    name: str = ""
    by_graph: dict[str, EnumValue] = field(default_factory=dict)


@dataclass(slots=True)
class MergedType(Element):
    name: str = ""
    kind: Kind = Kind.OBJECT
    by_graph: dict[str, TypeDef] = field(default_factory=dict)
    fields: dict[str, MergedField] = field(default_factory=dict)
    input_fields: dict[str, MergedInputValue] = field(default_factory=dict)
    values: dict[str, MergedEnumValue] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # member -> graphs
    interfaces: list[str] = field(default_factory=list)
    specified_by: str | None = None
    one_of: bool = False  # an input object @oneOf in some subgraph

    @property
    def interface_object_graphs(self) -> list[str]:
        return [g for g, t in self.by_graph.items() if t.interface_object]


@dataclass(slots=True)
class MergedSchema:
    subgraphs: dict[str, Subgraph]  # by join__Graph value, in enum order
    types: dict[str, MergedType] = field(default_factory=dict)
    # (type, field) some subgraph selects at the top level of one of the type's keys
    key_fields_anywhere: set[tuple[str, str]] = field(default_factory=set)
    executable_directives: list[ExecutableDirective] = field(default_factory=list)
    composed_directives: dict[str, ComposedDirective] = field(default_factory=dict)

    def names_of(self, graphs: list[str]) -> list[str]:
        return [self.name_of(g) for g in graphs]

    def quoted(self, graphs: list[str]) -> str:
        return ", ".join(f'"{self.name_of(g)}"' for g in graphs)

    def name_of(self, graph: str) -> str:
        return self.subgraphs[graph].name

    def graph_named(self, name: str) -> str | None:
        for graph, subgraph in self.subgraphs.items():
            if subgraph.name == name:
                return graph
        return None

    def implementations(self, interface: str) -> list[str]:
        return [
            t.name
            for t in self.types.values()
            if t.kind == Kind.OBJECT and interface in t.interfaces
        ]


def merge_element(target: Element, source: Element) -> None:
    if target.description is None and source.description is not None:
        target.description = source.description
    if target.deprecated is None and source.deprecated is not None:
        target.deprecated = source.deprecated
    target.inaccessible |= source.inaccessible
    target.tags.extend(t for t in source.tags if t not in target.tags)
    target.access.merge(source.access)
    target.applied.extend(a for a in source.applied if a not in target.applied)
    if source.cost is not None:
        target.cost = source.cost if target.cost is None else max(target.cost, source.cost)
