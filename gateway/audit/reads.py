"""Whose personal data one answer holds: per data subject, the personal fields read and refused.

Built once per authorised operation (`AuditPlanner.plan`), like the ownership guard: a tree of
the positions that lead to `@personalData` fields, with an *anchor* at each entity type that
declares its data subject (`@dataSubject`). Planning selects each anchor's subject under the
same internal key ownership uses, so the answer itself says whose data each object is: the
subject comes from the Citizen entities (or a ticket's reporter) actually in the data, never from
the operation's arguments.

After execution and shaping (`AuditPlan.reads`), the data is walked along that tree:

- a personal field at a path with an authorisation error (`UNAUTHORIZED_FIELD_OR_TYPE`, or a
  subgraph's `FORBIDDEN`) was refused;
- one with another error at its path (a subgraph down) was not read;
- any other personal field present in the data was read.

A personal field with no anchor above it, or whose anchor's subject is missing from the data, is
counted for an unknown subject (None): still logged, shown to nobody's citizen view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLSchema

from gateway.errors import UNAUTHORIZED
from gateway.operation import NOperation, NSelection
from gateway.ownership.guard import SUBJECT_KEY, Anchor, GuardNode, OwnershipGuard
from gateway.ownership.subjects import DataSubject

REFUSED_CODES = frozenset({UNAUTHORIZED, "FORBIDDEN"})

ANSWERED = "answered"
PARTLY_DENIED = "partly-denied"
DENIED = "denied"


@dataclass(frozen=True, slots=True)
class SubjectRead:
    """What one answer read, and was refused, of one data subject's personal data."""

    subject: str | None  # the INSZ; None when the answer does not say whose data it is
    read: tuple[str, ...]  # `Type.field` coordinates, sorted
    refused: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def outcome(self) -> str:
        if not self.refused:
            return ANSWERED
        return PARTLY_DENIED if self.read else DENIED


class _Step:
    """What the walk does with an object of one type at one position, worked out once."""

    __slots__ = ("anchor_key", "anchor_rest", "children", "personal")

    def __init__(
        self,
        anchor: Anchor | None,
        personal: tuple[tuple[str, str], ...],
        children: tuple[tuple[str, _Node], ...],
    ) -> None:
        self.anchor_key = anchor.key if anchor is not None else None
        self.anchor_rest = anchor.subject.path[1:] if anchor is not None else ()
        self.personal = personal  # (response key, `Type.field`)
        self.children = children


class _Node:
    __slots__ = ("static", "steps")

    def __init__(self, guard: GuardNode) -> None:
        self.static = guard.static_type
        types = {*guard.bound, *guard.children, *guard.anchors}
        self.steps = {
            t: _Step(
                guard.anchors.get(t),
                tuple(guard.bound.get(t, {}).items()),
                tuple((k, _Node(c)) for k, c in guard.children.get(t, {}).items()),
            )
            for t in types
        }


class AuditPlan:
    """The personal fields of one authorised operation, and the anchors above them."""

    __slots__ = ("_guard", "_memo", "_node", "categories", "root")

    def __init__(self, root: GuardNode, categories: Mapping[str, str]) -> None:
        self.root = root
        self.categories = categories  # `Type.field` -> category
        self._guard = OwnershipGuard(root, ())
        self._node = _Node(root)
        # the coordinates one subject's answer read -> them sorted, and their categories
        self._memo: dict[frozenset[str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def subject_fields(self, op: NOperation, schema: GraphQLSchema) -> NOperation:
        """The operation to plan: `op` with each anchor's subject selected too."""
        return self._guard.subject_fields(op, schema)

    def reads(
        self, data: Mapping[str, Any], errors: Iterable[Mapping[str, Any]]
    ) -> list[SubjectRead]:
        """Per data subject in `data` (the merged answer, internal keys included): what was
        read and refused. `errors` are the client's errors, after shaping."""
        failed = _error_paths(errors)
        if not failed:  # the common case: no path to follow, nothing refused
            read_only: dict[str | None, set[str]] = {}
            _walk(data, self._node, None, read_only)
            out = []
            for subject, read in read_only.items():
                if read:
                    coordinates, categories = self._sorted(frozenset(read))
                    out.append(SubjectRead(subject, coordinates, (), categories))
            return out
        found: dict[str | None, tuple[set[str], set[str]]] = {}
        _walk_paths(data, self._node, None, (), failed, found)
        out = []
        for subject, (read, refused) in found.items():
            read -= refused  # one field refused in one object and read in another: refused
            asked = read | refused
            if not asked:
                continue
            categories = tuple(sorted({self.categories[c] for c in asked}))
            out.append(
                SubjectRead(subject, tuple(sorted(read)), tuple(sorted(refused)), categories)
            )
        return out

    def _sorted(self, read: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        known = self._memo.get(read)
        if known is None:
            if len(self._memo) >= 64:
                self._memo.clear()
            categories = tuple(sorted({self.categories[c] for c in read}))
            known = self._memo[read] = (tuple(sorted(read)), categories)
        return known


def _walk(value: Any, node: _Node, subject: str | None, found: dict[str | None, set[str]]) -> None:
    """The walk when no error has a path: every personal field present was read."""
    if type(value) is list:
        for item in value:
            _walk(item, node, subject, found)
        return
    if type(value) is not dict:
        return
    type_name = value.get("__typename") or node.static
    if type_name is None:  # an abstract position without __typename: each type's fields
        steps: Iterable[_Step] = node.steps.values()
    else:
        step = node.steps.get(type_name)
        if step is None:
            return
        steps = (step,)
    for step in steps:
        here = subject
        if step.anchor_key is not None:
            here = _subject_value(value.get(step.anchor_key), step.anchor_rest)
        if step.personal:
            bucket = found.get(here)
            if bucket is None:
                bucket = found[here] = set()
            for key, coordinate in step.personal:
                if key in value:
                    bucket.add(coordinate)
        for key, child in step.children:
            below = value.get(key)
            if below is not None:
                _walk(below, child, here, found)


def _walk_paths(
    value: Any,
    node: _Node,
    subject: str | None,
    path: tuple[Any, ...],
    failed: Mapping[tuple[Any, ...], bool],
    found: dict[str | None, tuple[set[str], set[str]]],
) -> None:
    """The walk with each object's path: a field with an error at its path was refused (an
    authorisation error) or not read (any other)."""
    if type(value) is list:
        for index, item in enumerate(value):
            _walk_paths(item, node, subject, (*path, index), failed, found)
        return
    if type(value) is not dict:
        return
    type_name = value.get("__typename") or node.static
    if type_name is None:
        steps: Iterable[_Step] = node.steps.values()
    else:
        step = node.steps.get(type_name)
        if step is None:
            return
        steps = (step,)
    for step in steps:
        here = subject
        if step.anchor_key is not None:
            here = _subject_value(value.get(step.anchor_key), step.anchor_rest)
        if step.personal:
            entry = found.get(here)
            if entry is None:
                entry = found[here] = (set(), set())
            for key, coordinate in step.personal:
                failure = failed.get((*path, key))
                if failure is True:
                    entry[1].add(coordinate)
                elif failure is None and key in value:
                    entry[0].add(coordinate)
        for key, child in step.children:
            below = value.get(key)
            if below is not None:
                _walk_paths(below, child, here, (*path, key), failed, found)


def drop_subject_errors(errors: list[dict[str, Any]]) -> None:
    """A subgraph's errors about the subjects the gateway selected (under the internal key)
    are not the client's: removed, as ownership does."""
    errors[:] = [e for e in errors if not _about_subject(e.get("path"))]


def _about_subject(path: Any) -> bool:
    return isinstance(path, list) and any(
        isinstance(step, str) and step.startswith(SUBJECT_KEY) for step in path
    )


def _subject_value(found: Any, rest: tuple[str, ...]) -> str | None:
    """The INSZ under an anchor's internal key (`"8567..."`, or `{"insz": "8567..."}` along a
    longer `@dataSubject` path)."""
    for name in rest:
        found = found.get(name) if type(found) is dict else None
    return found if type(found) is str and found else None


def _error_paths(errors: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], bool]:
    found: dict[tuple[Any, ...], bool] = {}
    for error in errors:
        path = error.get("path")
        if not isinstance(path, list) or not path:
            continue
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        key = tuple(path)
        found[key] = found.get(key, False) or code in REFUSED_CODES
    return found


class AuditPlanner:
    """Audit plans of one supergraph's operations, remembered per authorised operation."""

    def __init__(
        self, personal_fields: Mapping[tuple[str, str], str], subjects: Mapping[str, DataSubject]
    ) -> None:
        self.personal = personal_fields
        self.subjects = subjects
        self.categories = {f"{t}.{f}": c for (t, f), c in personal_fields.items()}
        # for as long as the operation lives (as gateway/authorization.py's per-operation facts)
        self._plans: WeakKeyDictionary[NOperation, AuditPlan | None] = WeakKeyDictionary()

    def plan(self, op: NOperation) -> AuditPlan | None:
        """None when the operation reads no personal field."""
        if not self.personal:
            return None
        if op in self._plans:
            return self._plans[op]
        root = self._node(op.root)
        plan = self._plans[op] = None if root is None else AuditPlan(root, self.categories)
        return plan

    def _node(self, nsel: NSelection) -> GuardNode | None:
        node = GuardNode(None if nsel.abstract else nsel.type_name)
        for type_name, fields in nsel.by_type.items():
            for key, f in fields.items():
                if f.is_typename:
                    continue
                if (type_name, f.name) in self.personal:
                    node.bound.setdefault(type_name, {})[key] = f"{type_name}.{f.name}"
                if f.selection is not None:
                    child = self._node(f.selection)
                    if child is not None:
                        node.children.setdefault(type_name, {})[key] = child
            subject = self.subjects.get(type_name)
            if subject is not None and (type_name in node.bound or type_name in node.children):
                # the same key as ownership's anchor at this position: one subject selection
                key = SUBJECT_KEY
                while key in fields:
                    key += "_"
                node.anchors[type_name] = Anchor(subject, key)
        return None if node.is_empty() else node
