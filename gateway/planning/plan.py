"""The query plan: a small DAG of subgraph fetches, built once per operation and cached."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PathSegment:
    """A step from an object to one of its fields, by response key.

    `types`, when set, restricts the step to objects whose `__typename` is one of them (the step
    came from a fragment on an abstract position).
    """

    key: str
    types: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class RepField:
    """One field of an entity representation: its name for the subgraph, its key in our data.
    `identifies`: part of the entity's @key, so an object where it is null has no
    representation (a null key names no entity; the fetch is not asked about it)."""

    name: str
    key: str
    sub: RepSelection | None = None
    identifies: bool = False


@dataclass(frozen=True, slots=True)
class Rename:
    """An answer to give back its client name: the field at `alias` of the objects at `path`
    (from the fetch's answer, or from each entity of an entity fetch) whose `__typename` is one
    of `types` (any, if None) is the field `key` (see planning/conflicts.py)."""

    path: tuple[PathSegment, ...]
    types: frozenset[str] | None
    alias: str
    key: str


@dataclass(frozen=True, slots=True)
class ContextBinding:
    """A value an entity fetch's field takes from a context (@fromContext): the variable
    `variable` of the fetch's document is, for each object at the fetch's path, the value of
    `fields` on its ancestor at `ancestor` (whose `__typename` is one of `types`, if set); null
    where there is none. Objects whose values differ go in separate `_entities` calls."""

    variable: str
    ancestor: tuple[PathSegment, ...] | None
    types: frozenset[str] | None
    fields: tuple[RepField, ...]


# concrete type name -> the fields a representation of that type carries
RepSelection = dict[str, tuple[RepField, ...]]
# representations of one type with scalar fields only: (type, names, response keys, and whether
# each is part of the key: see RepField.identifies)
FlatRepresentation = tuple[str, tuple[str, ...], tuple[str, ...], tuple[bool, ...]]


@dataclass(frozen=True, slots=True)
class FetchNode:
    id: int
    graph: str
    service: str
    operation_kind: str  # "query" | "mutation"
    path: tuple[PathSegment, ...]
    document: str
    variable_names: tuple[str, ...]
    # for entity fetches: how to build a representation from each object at `path`
    representations: RepSelection | None
    # concrete type -> the __typename sent for it, where the subgraph knows the entity as an
    # @interfaceObject (the interface's name) rather than as the concrete type
    representation_typenames: dict[str, str]
    depends_on: tuple[int, ...]
    # response paths (relative to its position) this fetch fills, for errors when it fails
    field_keys: tuple[tuple[str, ...], ...]
    # the parts of `document`, so that entity fetches to one subgraph can share a request:
    # the client's variable definitions it uses, and its selection (inside `_entities` for
    # an entity fetch)
    variable_defs: tuple[str, ...] = ()
    selection: str = ""
    # a root fetch's top-level field names (for the cache: are they private?)
    root_fields: tuple[str, ...] = ()
    # (type, names, response keys) when representations are of one type and carry only
    # scalar fields: the executor reads them with one itemgetter per object
    flat_representation: FlatRepresentation | None = None
    # fields aliased in `document` because sibling fragments gave one name two types
    renames: tuple[Rename, ...] = ()
    # arguments taken from an ancestor's context (@fromContext), bound per entity
    context_bindings: tuple[ContextBinding, ...] = ()

    @property
    def is_entity_fetch(self) -> bool:
        return self.representations is not None


@dataclass(frozen=True, slots=True)
class QueryPlan:
    fetches: tuple[FetchNode, ...]
    has_introspection: bool

    @property
    def subgraph_calls(self) -> int:
        return len(self.fetches)
