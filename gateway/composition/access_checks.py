"""Authorisation rules of composition (@authenticated, @requiresScopes, @policy).

- Not on interfaces, their fields or interface objects: the rule would not follow the object to
  the subgraph that resolves it (AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE). An interface object's
  fields may have them (their subgraph resolves them, whatever the object's type).
- A field computed from other fields (@requires, or a @fromContext argument) must ask at least
  what reading those fields asks, or a caller could read protected data through it
  (MISSING_TRANSITIVE_AUTH_REQUIREMENTS). "At least" is logical implication: every group of
  scopes (policies) that grants the field must include a whole group that grants each field it
  reads. (The reference library checks the converse for groups, which lets "a OR c" stand for
  "a"; Rugzak does not.)
"""

from __future__ import annotations

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.composition.contexts import context_reference
from gateway.composition.errors import ErrorLog
from gateway.composition.field_sets import FieldSetSyntaxError, parse_field_set
from gateway.composition.subgraph_model import Access, Kind, Subgraph
from gateway.composition.supergraph_model import MergedSchema, MergedType
from gateway.composition.type_refs import named


def _used(access: Access) -> list[str]:
    return [
        name
        for name, used in (
            ("@authenticated", access.authenticated),
            ("@requiresScopes", bool(access.scopes)),
            ("@policy", bool(access.policies)),
        )
        if used
    ]


def check_access_on_interfaces(subgraph: Subgraph, log: ErrorLog) -> None:
    for type_def in subgraph.types.values():
        if type_def.kind != Kind.INTERFACE:
            continue
        what = "interface object" if type_def.interface_object else "interface"
        elements = [(type_def.name, type_def.access)]
        if not type_def.interface_object:  # an interface object's fields may have them
            elements += [(f"{type_def.name}.{f.name}", f.access) for f in type_def.fields.values()]
        for coordinate, access in elements:
            for directive in _used(access):
                log.add(
                    "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
                    f'Invalid use of {directive} on {what} "{coordinate}": {directive} cannot be '
                    "applied on interfaces, interface fields and interface objects.",
                    subgraphs=[subgraph.name],
                    coordinate=coordinate,
                    hint=f"put {directive} on the implementing object types or their fields.",
                )


def _implies(granted: list[list[str]], required: list[list[str]]) -> bool:
    """Does every group that grants `granted` include some group of `required`?"""
    if not required:
        return True
    return bool(granted) and all(any(set(r) <= set(g) for r in required) for g in granted)


def _covers(provisioned: Access, required: Access) -> bool:
    return (
        (provisioned.authenticated or not required.authenticated)
        and _implies(provisioned.scopes, required.scopes)
        and _implies(provisioned.policies, required.policies)
    )


class _TransitiveAccess:
    def __init__(self, schema: MergedSchema) -> None:
        self.schema = schema

    def lacking(
        self, type_name: str, selection: SelectionSetNode, provisioned: Access
    ) -> str | None:
        """The first type or field the selection reads that `provisioned` does not cover."""
        merged = self.schema.types.get(type_name)
        if merged is None:
            return None
        if merged.kind != Kind.UNION and not _covers(provisioned, merged.access):
            return merged.name
        for node in selection.selections:
            if isinstance(node, InlineFragmentNode):
                target = node.type_condition.name.value if node.type_condition else type_name
                found = self.lacking(target, node.selection_set, provisioned)
            elif isinstance(node, FieldNode) and node.name.value != "__typename":
                found = self._field(merged, node, provisioned)
            else:
                found = None
            if found is not None:
                return found
        return None

    def _field(self, merged: MergedType, node: FieldNode, provisioned: Access) -> str | None:
        field = merged.fields.get(node.name.value)
        if field is None:
            return None
        if not _covers(provisioned, field.access):
            return f"{merged.name}.{field.name}"
        target = self.schema.types.get(named(field.type))
        if target is None:
            return None
        if target.kind == Kind.UNION:
            for member in target.members:
                member_type = self.schema.types.get(member)
                if member_type is not None and not _covers(provisioned, member_type.access):
                    return member
        if node.selection_set is None:
            return None if _covers(provisioned, target.access) else target.name
        return self.lacking(target.name, node.selection_set, provisioned)


def check_transitive_access(schema: MergedSchema, log: ErrorLog) -> None:
    walker = _TransitiveAccess(schema)
    for merged in schema.types.values():
        if merged.kind != Kind.OBJECT:
            continue
        for field in merged.fields.values():
            provisioned = Access()
            provisioned.merge(merged.access)
            provisioned.merge(field.access)
            for graph, declared in field.by_graph.items():
                subgraph = schema.subgraphs[graph]
                reads: list[tuple[str, str, str]] = []  # (type, selection, what reads it)
                if declared.requires:
                    reads.append((merged.name, declared.requires, "@requires"))
                for arg in declared.args.values():
                    reference = context_reference(arg.from_context) if arg.from_context else None
                    if reference is None:
                        continue
                    for type_def in subgraph.types.values():
                        if reference[0] in type_def.contexts:
                            reads.append((type_def.name, reference[1], "@fromContext"))
                for type_name, text, source in reads:
                    try:
                        selection = parse_field_set(text)
                    except FieldSetSyntaxError:
                        continue
                    found = walker.lacking(type_name, selection, provisioned)
                    if found is None:
                        continue
                    coordinate = f"{merged.name}.{field.name}"
                    log.add(
                        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
                        f'Field "{coordinate}" does not specify necessary @authenticated, '
                        "@requiresScopes and/or @policy auth requirements to access the "
                        f'transitive field "{found}" data from {source} selection set.',
                        subgraphs=[subgraph.name],
                        coordinate=coordinate,
                        hint=f'give "{coordinate}" at least the requirements of "{found}".',
                    )
                    break
