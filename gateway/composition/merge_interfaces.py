"""What interfaces and their implementations share after merging: fields an @interfaceObject
adds, and authorisation requirements."""

from __future__ import annotations

from gateway.composition.subgraph_model import Kind
from gateway.composition.supergraph_model import MergedField, MergedSchema, merge_element


def add_interface_object_fields(schema: MergedSchema) -> None:
    """Fields an @interfaceObject adds to an interface appear on every implementation too."""
    for interface in schema.types.values():
        if interface.kind != Kind.INTERFACE or not interface.interface_object_graphs:
            continue
        for type_name in schema.implementations(interface.name):
            target = schema.types[type_name]
            for name, interface_field in interface.fields.items():
                if name in target.fields:
                    continue
                added = MergedField(
                    name=name,
                    type=interface_field.type,
                    args=dict(interface_field.args),
                    from_interface_object=True,
                )
                merge_element(added, interface_field)
                target.fields[name] = added


def propagate_access(schema: MergedSchema) -> None:
    """Authorisation that guards an implementation also guards its interface (and a field's
    rule on an @interfaceObject also the implementations' field), so that reading through
    the interface asks no less."""
    interfaces = [t for t in schema.types.values() if t.kind == Kind.INTERFACE]
    for interface in interfaces:
        if not interface.interface_object_graphs:
            continue
        for type_name in schema.implementations(interface.name):
            for name, field in schema.types[type_name].fields.items():
                if name in interface.fields and not field.from_interface_object:
                    field.access.merge(interface.fields[name].access)
    for interface in interfaces:
        for type_name in schema.implementations(interface.name):
            implementation = schema.types[type_name]
            interface.access.merge(implementation.access)
            for name, field in interface.fields.items():
                if name in implementation.fields:
                    field.access.merge(implementation.fields[name].access)
