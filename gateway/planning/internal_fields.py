"""Fields the gateway asks for itself: entity keys and @requires values.

They are planned next to the client's fields at the same position, so their response keys must
never give one field's value to another. And the representations built from them must carry,
for each requirement, exactly the value that requirement names (its arguments included).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.operation import NField, NSelection, same_arguments
from gateway.planning.plan import RepField, RepSelection
from gateway.planning.selection import SelectionBuilder
from gateway.response_keys import CLIENT_PREFIX, INTERNAL_PREFIX, client_key
from gateway.value_text import arguments_text

# `_rz_name`, or `_rz<8 hex>_name` for a field with arguments (the hex names them); `_rzc_key`
# for a client key kept apart from ours (gateway/response_keys.py)
_INTERNAL_KEY = re.compile(r"_rz(?:[0-9a-f]{8}|c)?_(.+)")
_SHADOWING_PREFIX = INTERNAL_PREFIX + "x"


def public_path(path: list[object]) -> list[object] | None:
    """An error path with internal response keys given as their field names, as the client
    sees a failed required field (it never saw our alias). None where the path runs through a
    field of ours whose name the client gave to another field there (`_rzx_`, see
    internal_key): the error belongs to no field of the response, and a path through the
    client's key would pin it on a field that did not fail."""
    if not any(isinstance(s, str) and s.startswith(INTERNAL_PREFIX) for s in path):
        return path
    out: list[object] = []
    for step in path:
        if isinstance(step, str) and step.startswith(_SHADOWING_PREFIX):
            return None
        out.append(_public_step(step) if isinstance(step, str) else step)
    return out


def _public_step(step: str) -> str:
    match = _INTERNAL_KEY.fullmatch(step)
    if match is None or step.startswith(CLIENT_PREFIX):
        return client_key(step)  # the client's own key, whatever it looks like
    return client_key(match.group(1))  # a field's name, or a conflict's alias of a client key


def internal_key(f: NField, sel: SelectionBuilder | None, client: Mapping[str, NField]) -> str:
    """The response key for an internal field.

    Its own name where that key is free or holds the very same field (whose value we share);
    otherwise a prefixed alias. With arguments, the alias names them, so that a requirement of
    `income(year: 2023)` and one of `income(year: 2024)` never share a key, whoever asked first.
    Where the client's own key of that name is another field (`buyer: id`), the alias is
    `_rzx_buyer`: an error below it has no path (public_path), not one through the client's.
    """
    if f.name == "__typename" or _fits(f.name, f, sel, client, shared_only=bool(f.arguments)):
        return f.name
    for key, other in client.items():  # the client may ask the same value under an alias
        if other.name == f.name and same_arguments(other.arguments, f.arguments):
            return key
    prefix = _SHADOWING_PREFIX if f.name in client else INTERNAL_PREFIX
    if not f.arguments:
        return prefix + "_" + f.name
    digest = hashlib.sha1(arguments_text(f.arguments).encode()).hexdigest()[:8]
    return prefix + digest + "_" + f.name


def _fits(
    key: str,
    f: NField,
    sel: SelectionBuilder | None,
    client: Mapping[str, NField],
    shared_only: bool,
) -> bool:
    other = client.get(key)
    if other is not None:
        return other.name == f.name and same_arguments(other.arguments, f.arguments)
    if shared_only:  # a field with arguments takes a bare name only to share the client's value
        return False
    return sel is None or sel.has_compatible(key, f.name, f.arguments)


def internalize(
    fields: Mapping[str, NField], sel: SelectionBuilder | None, client: Mapping[str, NField]
) -> tuple[list[NField], tuple[RepField, ...]]:
    """The internal fields under their response keys, and the representation fields they fill."""
    out: list[NField] = []
    reps: list[RepField] = []
    for f in fields.values():
        key = internal_key(f, sel, client)
        sub_reps: RepSelection | None = None
        sub = f.selection
        if sub is not None:
            entry = sel.fields.get(key) if sel is not None else None
            child_sel = entry.sub if entry is not None else None
            client_sub = client[key].selection if key in client else None
            by_type: dict[str, Mapping[str, NField]] = {}
            sub_reps = {}
            for concrete, cfields in sub.by_type.items():
                target = (
                    child_sel.fragments.get(concrete) if (child_sel and sub.abstract) else child_sel
                )
                client_fields = client_sub.by_type.get(concrete, {}) if client_sub else {}
                internal, creps = internalize(cfields, target, client_fields)
                by_type[concrete] = {n.response_key: n for n in internal}
                sub_reps[concrete] = creps
            sub = NSelection(sub.type_name, sub.abstract, by_type)
        out.append(NField(key, f.name, f.arguments, f.type, sub, f.nodes, f.parent_type))
        reps.append(RepField(f.name, key, sub_reps))
    return out, tuple(reps)


# -- representations ---------------------------------------------------------------------------


def reps_fit(existing: dict[str, RepField], new: Iterable[RepField]) -> bool:
    """Whether one representation can carry both: a field named in both must come from the
    same response key (the same field, the same arguments), all the way down."""
    for rep in new:
        old = existing.get(rep.name)
        if old is None:
            continue
        if old.key != rep.key:
            return False
        if old.sub is not None and rep.sub is not None:
            for concrete, fields in rep.sub.items():
                if not reps_fit({r.name: r for r in old.sub.get(concrete, ())}, fields):
                    return False
    return True


def merge_reps(existing: dict[str, RepField], new: Iterable[RepField]) -> None:
    """Add `new` to a representation's fields, merging sub-selections (an address's street from
    one requirement and its postal code from another)."""
    for rep in new:
        old = existing.get(rep.name)
        if old is None:
            existing[rep.name] = rep
        elif rep.sub is not None:
            merged: RepSelection = dict(old.sub or {})
            for concrete, fields in rep.sub.items():
                by_name = {r.name: r for r in merged.get(concrete, ())}
                merge_reps(by_name, fields)
                merged[concrete] = tuple(by_name.values())
            existing[rep.name] = RepField(
                old.name, old.key, merged, old.identifies or rep.identifies
            )
        elif rep.identifies and not old.identifies:
            existing[rep.name] = RepField(old.name, old.key, old.sub, True)


def identifying(reps: tuple[RepField, ...], key: SelectionSetNode) -> tuple[RepField, ...]:
    """`reps` with the fields of the entity's key (`key`, at any depth) marked as identifying
    it; the rest (@requires values) may be null in a representation, these may not."""
    names: dict[str, SelectionSetNode | None] = {}
    _key_fields(key, names)
    out: list[RepField] = []
    for rep in reps:
        if rep.name not in names:
            out.append(rep)
            continue
        below = names[rep.name]
        sub = rep.sub
        if sub is not None and below is not None:
            sub = {t: identifying(fields, below) for t, fields in sub.items()}
        out.append(RepField(rep.name, rep.key, sub, True))
    return tuple(out)


def _key_fields(selection: SelectionSetNode, out: dict[str, SelectionSetNode | None]) -> None:
    for node in selection.selections:
        if isinstance(node, FieldNode):
            out.setdefault(node.name.value, node.selection_set)
        elif isinstance(node, InlineFragmentNode):
            _key_fields(node.selection_set, out)


# -- requirements ------------------------------------------------------------------------------


def requirements_conflict(a: Iterable[SelectionSetNode], b: SelectionSetNode) -> bool:
    """Whether @requires selection `b` names a field that one of `a` names with other arguments
    (one representation cannot carry both values under the field's name)."""
    seen: dict[tuple[str, ...], str] = {}
    for selection in a:
        _flatten(selection, (), seen)
    mine: dict[tuple[str, ...], str] = {}
    _flatten(b, (), mine)
    return any(path in seen and seen[path] != args for path, args in mine.items())


def _flatten(
    selection: SelectionSetNode, path: tuple[str, ...], out: dict[tuple[str, ...], str]
) -> None:
    for node in selection.selections:
        if isinstance(node, FieldNode):
            here = (*path, node.name.value)
            out.setdefault(here, arguments_text(tuple(node.arguments or ())))
            if node.selection_set is not None:
                _flatten(node.selection_set, here, out)
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else ""
            _flatten(node.selection_set, (*path, "..." + condition), out)
