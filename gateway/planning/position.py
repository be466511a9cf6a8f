"""Where the planner is: the place in the plan that fields are being planned into."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import SelectionSetNode

from gateway.planning.fetches import Fetch
from gateway.planning.plan import PathSegment
from gateway.planning.selection import SelectionBuilder


@dataclass(frozen=True, slots=True)
class Position:
    """Fields of concrete type `type_name` at response path `path`, planned into `fetch`'s
    selection `sel`."""

    fetch: Fetch
    sel: SelectionBuilder
    type_name: str
    path: tuple[PathSegment, ...]
    provided: SelectionSetNode | None = None  # what an enclosing @provides gives here
    # a member of an abstract type: the objects at `path` need a type condition
    parent_abstract: bool = False
    # the concrete type on the path, where `type_name` is the @interfaceObject it is sent as
    path_type: str | None = None
