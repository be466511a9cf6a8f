"""One subgraph as composition sees it: its types with federation directives already read.

Type references are kept as printed GraphQL type strings ("[String!]!"); field sets (@key,
@requires, @provides) as the strings the subgraph wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.composition.composed_directives import ComposedDirective
    from gateway.composition.demand_control import ListSize
    from gateway.composition.executable_directives import ExecutableDirective


class Kind(StrEnum):
    OBJECT = "Object"
    INTERFACE = "Interface"
    UNION = "Union"
    ENUM = "Enum"
    INPUT_OBJECT = "InputObject"
    SCALAR = "Scalar"


@dataclass(slots=True)
class Access:
    """@authenticated, @requiresScopes and @policy on one element (OR of AND groups)."""

    authenticated: bool = False
    scopes: list[list[str]] = field(default_factory=list)
    policies: list[list[str]] = field(default_factory=list)

    def merge(self, other: Access) -> None:
        self.authenticated |= other.authenticated
        self.scopes = merge_requirements(self.scopes, other.scopes)
        self.policies = merge_requirements(self.policies, other.policies)


def merge_requirements(a: list[list[str]], b: list[list[str]]) -> list[list[str]]:
    """Both requirements at once: each group of one joined with each group of the other, then
    without the groups another group already implies (a superset asks more for nothing)."""
    if not a or not b:
        return [list(g) for g in (a or b)]
    joined = {tuple(sorted({*left, *right})) for left in a for right in b}
    minimal: list[tuple[str, ...]] = []
    for group in sorted(joined, key=lambda g: (len(g), g)):
        if not any(set(kept) <= set(group) for kept in minimal):
            minimal.append(group)
    return [list(g) for g in minimal]


@dataclass(frozen=True, slots=True)
class Applied:
    """One application of a composed directive (@composeDirective), its arguments printed as
    written."""

    name: str
    args: tuple[tuple[str, str], ...] = ()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Applied)
            and self.name == other.name
            and sorted(self.args) == sorted(other.args)
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.args))))

    def printed(self) -> str:
        args = ", ".join(f"{n}: {v}" for n, v in self.args)
        return f"@{self.name}({args})" if args else f"@{self.name}"


@dataclass(slots=True)
class Element:
    """What every named schema element carries besides its own shape."""

    description: str | None = None
    deprecated: str | None = None  # the reason; "No longer supported" when none is given
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    access: Access = field(default_factory=Access)
    applied: list[Applied] = field(default_factory=list)  # composed directives
    cost: int | None = None  # @cost(weight:)
    cache_tags: list[str] = field(default_factory=list)  # @cacheTag(format:), kept per subgraph


@dataclass(slots=True)
class InputValue(Element):
    """An argument or an input field."""

    name: str = ""
    type: str = ""
    default: str | None = None  # the default value, printed
    from_context: str | None = None  # @fromContext(field:): "$userContext { locale }"


@dataclass(slots=True)
class Field(Element):
    name: str = ""
    type: str = ""
    args: dict[str, InputValue] = field(default_factory=dict)
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    shareable: bool = False
    override: str | None = None
    override_label: str | None = None
    in_extension: bool = False  # declared in an `extend type` block
    list_size: ListSize | None = None


@dataclass(slots=True)
class Key:
    fields: str
    resolvable: bool = True


@dataclass(slots=True)
class EnumValue(Element):
    name: str = ""


@dataclass(slots=True)
class TypeDef(Element):
    name: str = ""
    kind: Kind = Kind.OBJECT
    has_definition: bool = False  # declared without `extend`
    extended: bool = False  # some block was `extend type` or carried @extends
    extends_directive: bool = False
    keys: list[Key] = field(default_factory=list)
    shareable: bool = False
    interface_object: bool = False
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)  # objects and interfaces
    input_fields: dict[str, InputValue] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)  # unions
    values: dict[str, EnumValue] = field(default_factory=dict)  # enums
    specified_by: str | None = None  # scalars
    one_of: bool = False  # input objects: @oneOf
    contexts: list[str] = field(default_factory=list)  # @context(name:) it sets

    @property
    def is_entity(self) -> bool:
        return bool(self.keys)


@dataclass(slots=True)
class Subgraph:
    name: str
    url: str
    graph_id: str  # the join__Graph enum value
    version: tuple[int, int]  # (1, 0) for Federation 1 style, else (2, minor)
    types: dict[str, TypeDef] = field(default_factory=dict)
    root_types: dict[str, str] = field(default_factory=dict)  # "query" -> "Query"
    executable_directives: dict[str, ExecutableDirective] = field(default_factory=dict)
    composed: dict[str, ComposedDirective] = field(default_factory=dict)  # by local name
    # (type, field) selected at the top level of one of the type's @key field sets
    key_fields: set[tuple[str, str]] = field(default_factory=set)
    # (type, field) selected at any depth by some @key of this subgraph
    key_selected: set[tuple[str, str]] = field(default_factory=set)
    # (type, field) selected by any @key, @requires or @provides of this subgraph
    used_fields: set[tuple[str, str]] = field(default_factory=set)
    # (type, field) selected by a @requires / a @provides of this subgraph
    required_fields: set[tuple[str, str]] = field(default_factory=set)
    provided_fields: set[tuple[str, str]] = field(default_factory=set)

    @property
    def is_fed1(self) -> bool:
        return self.version[0] == 1

    def field(self, type_name: str, field_name: str) -> Field | None:
        type_def = self.types.get(type_name)
        return type_def.fields.get(field_name) if type_def else None
