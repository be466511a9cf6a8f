"""Checks of one subgraph on its own: its keys (key_checks.py), @requires, @provides, @external,
@override and @interfaceObject. Also records which fields the field sets use."""

from __future__ import annotations

import re

from gateway.composition.access_checks import check_access_on_interfaces
from gateway.composition.contexts import check_contexts
from gateway.composition.demand_control import check_demand_control
from gateway.composition.directive_usage import check_directive_usage
from gateway.composition.errors import ErrorLog
from gateway.composition.field_sets import (
    BadFragment,
    FieldSetSyntaxError,
    Selected,
    is_leaf,
    named_type,
    parse_field_set,
    walk,
)
from gateway.composition.key_checks import check_keys, report
from gateway.composition.subgraph_model import Field, Kind, Subgraph, TypeDef

_LABEL = re.compile(r"^(percent\((\d{1,2}(\.\d{1,8})?|100)\)|[a-zA-Z][a-zA-Z0-9_\-:.]{0,99})$")


def check_subgraph(subgraph: Subgraph, log: ErrorLog) -> None:
    for type_def in subgraph.types.values():
        if type_def.kind in (Kind.OBJECT, Kind.INTERFACE):
            check_keys(subgraph, type_def, log)
            check_demand_control(subgraph, type_def, log)
            for field in type_def.fields.values():
                _check_requires(subgraph, type_def, field, log)
                _check_provides(subgraph, type_def, field, log)
                _check_override(subgraph, type_def, field, log)
        if type_def.interface_object and not type_def.keys:
            report(
                log,
                subgraph,
                "INTERFACE_OBJECT_USAGE_ERROR",
                type_def.name,
                f'The @interfaceObject type "{type_def.name}" has no @key.',
                "add the @key the interface has in the subgraph that defines it.",
            )
    check_contexts(subgraph, log)
    check_access_on_interfaces(subgraph, log)
    check_directive_usage(subgraph, log)
    _share_key_fields(subgraph)
    if not subgraph.is_fed1:
        _check_external_used(subgraph, log)


def _share_key_fields(subgraph: Subgraph) -> None:
    """A field any @key selects (at any depth) may be resolved by every subgraph that has it."""
    for type_name, field_name in subgraph.key_selected:
        type_def = subgraph.types.get(type_name)
        if type_def is not None and type_def.kind == Kind.OBJECT:
            field = type_def.fields.get(field_name)
            if field is not None:
                field.shareable = True


def _composite(subgraph: Subgraph, type_name: str) -> TypeDef | None:
    type_def = subgraph.types.get(type_name)
    if type_def and type_def.kind in (Kind.OBJECT, Kind.INTERFACE, Kind.UNION):
        return type_def
    return None


def _selection_errors(
    subgraph: Subgraph,
    type_name: str,
    fields: str,
    directive: str,
    coordinate: str,
    log: ErrorLog,
) -> list[Selected] | None:
    """The fields a @requires / @provides selects, after reporting the ones that do not exist."""
    code = f"{directive.upper()}_INVALID_FIELDS"
    where = f'On field "{coordinate}", for @{directive}(fields: "{fields}")'
    try:
        selection = parse_field_set(fields)
    except FieldSetSyntaxError as exc:
        report(log, subgraph, code, coordinate, f"{where}: {exc}", "fix the field set.")
        return None
    out: list[Selected] = []
    ok = True
    for item in walk(subgraph, type_name, selection):
        if isinstance(item, BadFragment) or item.field is None:
            what = (
                item.type_condition
                if isinstance(item, BadFragment)
                else f"{item.parent}.{item.name}"
            )
            report(
                log,
                subgraph,
                code,
                coordinate,
                f'{where}: "{what}" is not defined in this subgraph.',
                f'declare "{what}" in this subgraph with @external, or remove it from the set.',
            )
            ok = False
            continue
        leaf = is_leaf(subgraph, named_type(item.field.type))
        if leaf == (item.node.selection_set is not None):
            need = "cannot have a selection" if leaf else "needs a selection of its fields"
            report(
                log,
                subgraph,
                code,
                coordinate,
                f'{where}: field "{item.parent}.{item.name}" {need}.',
                "select the subfields of object fields, and none of leaf fields.",
            )
            ok = False
        out.append(item)
    return out if ok else None


def _locally_resolved_leaf(subgraph: Subgraph, item: Selected) -> bool:
    """A leaf the set selects on the type itself that this subgraph resolves: it has no place
    in a @requires / @provides. As in the reference library, only leaves at the top of the set
    and outside inline fragments count: a field with a selection may be local (`comments(limit:
    3) { authorId }` with `authorId` @external), and `... on Media { title }` on an interface
    stands for its implementations' fields."""
    assert item.field is not None
    return (
        item.depth == 0
        and not item.in_fragment
        and is_leaf(subgraph, named_type(item.field.type))
        and not item.field.external
        and not subgraph.is_fed1
    )


def _check_requires(subgraph: Subgraph, type_def: TypeDef, field: Field, log: ErrorLog) -> None:
    if field.requires is None:
        return
    coordinate = f"{type_def.name}.{field.name}"
    if type_def.kind == Kind.INTERFACE and not type_def.interface_object:
        report(
            log,
            subgraph,
            "REQUIRES_UNSUPPORTED_ON_INTERFACE",
            coordinate,
            f'@requires on interface field "{coordinate}" is not supported.',
            "put @requires on the fields of the implementing types.",
        )
        return
    selected = _selection_errors(
        subgraph, type_def.name, field.requires, "requires", coordinate, log
    )
    for item in selected or ():
        subgraph.used_fields.add((item.parent, item.name))
        subgraph.required_fields.add((item.parent, item.name))
        assert item.field is not None
        if _locally_resolved_leaf(subgraph, item):
            report(
                log,
                subgraph,
                "REQUIRES_FIELDS_MISSING_EXTERNAL",
                coordinate,
                f'On field "{coordinate}", for @requires(fields: "{field.requires}"): field '
                f'"{item.parent}.{item.name}" should not be part of a @requires since it is '
                "already provided by this subgraph (it is not marked @external).",
                f'mark "{item.parent}.{item.name}" @external, or drop it from @requires.',
            )


def _check_provides(subgraph: Subgraph, type_def: TypeDef, field: Field, log: ErrorLog) -> None:
    if field.provides is None:
        return
    coordinate = f"{type_def.name}.{field.name}"
    target = named_type(field.type)
    if _composite(subgraph, target) is None:
        report(
            log,
            subgraph,
            "PROVIDES_ON_NON_OBJECT_FIELD",
            coordinate,
            f'Invalid @provides directive on field "{coordinate}": field has type "{field.type}" '
            "which is not a Composite Type.",
            "use @provides only on fields that return objects, interfaces or unions.",
        )
        return
    selected = _selection_errors(subgraph, target, field.provides, "provides", coordinate, log)
    for item in selected or ():
        subgraph.used_fields.add((item.parent, item.name))
        subgraph.provided_fields.add((item.parent, item.name))
        assert item.field is not None
        if item.field.args:
            report(
                log,
                subgraph,
                "PROVIDES_FIELDS_HAS_ARGS",
                coordinate,
                f'On field "{coordinate}", for @provides(fields: "{field.provides}"): field '
                f"{item.parent}.{item.name} cannot be included because it has arguments (fields "
                "with argument are not allowed in @provides)",
                f'drop "{item.parent}.{item.name}" from @provides.',
            )
        elif _locally_resolved_leaf(subgraph, item):
            report(
                log,
                subgraph,
                "PROVIDES_FIELDS_MISSING_EXTERNAL",
                coordinate,
                f'On field "{coordinate}", for @provides(fields: "{field.provides}"): field '
                f'"{item.parent}.{item.name}" should not be part of a @provides since it is '
                "already provided by this subgraph (it is not marked @external).",
                f'mark "{item.parent}.{item.name}" @external, or drop it from @provides.',
            )


def _check_override(subgraph: Subgraph, type_def: TypeDef, field: Field, log: ErrorLog) -> None:
    if field.override is None:
        return
    coordinate = f"{type_def.name}.{field.name}"
    if field.override == subgraph.name:
        report(
            log,
            subgraph,
            "OVERRIDE_FROM_SELF_ERROR",
            coordinate,
            f'Source and destination subgraphs "{subgraph.name}" are the same for overridden '
            f'field "{coordinate}".',
            "name the subgraph the field moves away from in @override(from:), or remove it.",
        )
    if field.external:
        report(
            log,
            subgraph,
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            coordinate,
            f'@override cannot be used on field "{coordinate}" since it is marked @external.',
            "remove @external or @override.",
        )
    if type_def.kind == Kind.INTERFACE and not type_def.interface_object:
        report(
            log,
            subgraph,
            "OVERRIDE_ON_INTERFACE",
            coordinate,
            f'@override cannot be used on field "{coordinate}" of interface "{type_def.name}".',
            "use @override on the implementing types' fields.",
        )
    if field.override_label is not None and not _LABEL.match(field.override_label):
        report(
            log,
            subgraph,
            "OVERRIDE_LABEL_INVALID",
            coordinate,
            f'Invalid @override label "{field.override_label}" on field "{coordinate}".',
            'use "percent(N)" with 0 <= N <= 100, or a name that starts with a letter.',
        )


def _check_external_used(subgraph: Subgraph, log: ErrorLog) -> None:
    for type_def in subgraph.types.values():
        if type_def.kind == Kind.INTERFACE and not type_def.interface_object:
            for field in type_def.fields.values():
                if field.external:
                    coordinate = f"{type_def.name}.{field.name}"
                    report(
                        log,
                        subgraph,
                        "EXTERNAL_ON_INTERFACE",
                        coordinate,
                        f'Interface type field "{coordinate}" is marked @external but @external '
                        "is not allowed on interface fields (it is nonsensical).",
                        "remove @external from the interface field.",
                    )
        interface_fields = {
            name
            for interface in type_def.interfaces
            for name in getattr(subgraph.types.get(interface), "fields", {})
        }
        for field in type_def.fields.values():
            if not field.external or (type_def.name, field.name) in subgraph.used_fields:
                continue
            if field.name in interface_fields:
                continue
            returned = subgraph.types.get(named_type(field.type))
            if returned is not None and returned.kind == Kind.OBJECT and returned.shareable:
                continue  # the ecosystem lets an @external value-type field stand unused
            report(
                log,
                subgraph,
                "EXTERNAL_UNUSED",
                f"{type_def.name}.{field.name}",
                f'Field "{type_def.name}.{field.name}" is marked @external but is not used by '
                "any federation directive (@key, @provides, @requires) or to satisfy an "
                "interface; the field declaration has no use and should be removed (or the "
                "field should not be @external).",
                "remove the field, or remove @external and resolve it here (with @shareable).",
            )
