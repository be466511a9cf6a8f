"""@key checks of one subgraph: the field set selects fields that exist, without arguments,
no interfaces or unions (lists are fine: `@key(fields: "products { id }")`); an interface's key
is on every implementation. Records which fields the keys select."""

from __future__ import annotations

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
from gateway.composition.subgraph_model import Kind, Subgraph, TypeDef


def report(
    log: ErrorLog, subgraph: Subgraph, code: str, coordinate: str, message: str, hint: str
) -> None:
    log.add(code, message, subgraphs=[subgraph.name], coordinate=coordinate, hint=hint)


def check_keys(subgraph: Subgraph, type_def: TypeDef, log: ErrorLog) -> None:
    is_interface = type_def.kind == Kind.INTERFACE and not type_def.interface_object
    if type_def.keys and is_interface and (2, 0) <= subgraph.version < (2, 3):
        report(
            log,
            subgraph,
            "KEY_UNSUPPORTED_ON_INTERFACE",
            type_def.name,
            f'@key on interface "{type_def.name}" needs Federation 2.3 or later.',
            "link federation/v2.3 or later.",
        )
        return
    for key in type_def.keys:
        where = f'On type "{type_def.name}", for @key(fields: "{key.fields}")'
        try:
            selection = parse_field_set(key.fields)
        except FieldSetSyntaxError as exc:
            report(
                log,
                subgraph,
                "KEY_INVALID_FIELDS",
                type_def.name,
                f"{where}: {exc}",
                "fix the field set.",
            )
            continue
        for item in walk(subgraph, type_def.name, selection):
            if isinstance(item, BadFragment) or item.field is None:
                parent = type_def.name if isinstance(item, BadFragment) else item.parent
                if parent != type_def.name and _abstract(subgraph, parent):
                    continue  # below a field of an abstract type: refused as such already
                what = item.type_condition if isinstance(item, BadFragment) else item.name
                report(
                    log,
                    subgraph,
                    "KEY_INVALID_FIELDS",
                    type_def.name,
                    f'{where}: cannot query "{what}" on type "{parent}".',
                    "add the field to the type in this subgraph (with @external if another "
                    "subgraph resolves it), or change the key.",
                )
                continue
            coordinate = f"{item.parent}.{item.name}"
            subgraph.used_fields.add((item.parent, item.name))
            subgraph.key_selected.add((item.parent, item.name))
            if item.depth == 0 and item.parent == type_def.name:
                subgraph.key_fields.add((item.parent, item.name))
            _check_key_field(subgraph, item, where, coordinate, log)
        if is_interface and subgraph.version >= (2, 3):
            _check_interface_key(subgraph, type_def, key.fields, log)


def _abstract(subgraph: Subgraph, type_name: str) -> bool:
    type_def = subgraph.types.get(type_name)
    return type_def is not None and type_def.kind in (Kind.INTERFACE, Kind.UNION)


def _check_key_field(
    subgraph: Subgraph, item: Selected, where: str, coordinate: str, log: ErrorLog
) -> None:
    assert item.field is not None
    if item.node.directives:
        report(
            log,
            subgraph,
            "KEY_DIRECTIVE_IN_FIELDS_ARG",
            coordinate,
            f"{where}: directives are not allowed in a key.",
            "remove the directive from the field set.",
        )
    if item.field.args:
        report(
            log,
            subgraph,
            "KEY_FIELDS_HAS_ARGS",
            coordinate,
            f'{where}: field "{coordinate}" has arguments, which a key cannot include.',
            "key on fields without arguments.",
        )
    target = named_type(item.field.type)
    target_def = subgraph.types.get(target)
    if target_def is not None and target_def.kind in (Kind.INTERFACE, Kind.UNION):
        report(
            log,
            subgraph,
            "KEY_FIELDS_SELECT_INVALID_TYPE",
            coordinate,
            f'{where}: field "{coordinate}" is of {target_def.kind.value} type, which a key '
            "cannot include.",
            "key on scalar, enum or object fields, or lists of them (not interfaces or unions).",
        )
        return
    leaf = is_leaf(subgraph, target)
    if leaf == (item.node.selection_set is not None):
        need = "cannot have a selection" if leaf else "needs a selection of its fields"
        report(
            log,
            subgraph,
            "KEY_INVALID_FIELDS",
            coordinate,
            f'{where}: field "{coordinate}" {need}.',
            "select the subfields of object fields, and none of leaf fields.",
        )


def _check_interface_key(
    subgraph: Subgraph, interface: TypeDef, fields: str, log: ErrorLog
) -> None:
    for type_def in subgraph.types.values():
        if interface.name not in type_def.interfaces or type_def.kind != Kind.OBJECT:
            continue
        if not any(" ".join(k.fields.split()) == " ".join(fields.split()) for k in type_def.keys):
            report(
                log,
                subgraph,
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                type_def.name,
                f'Key @key(fields: "{fields}") on interface "{interface.name}" is missing on '
                f'implementation type "{type_def.name}".',
                f'add @key(fields: "{fields}") to "{type_def.name}".',
            )
