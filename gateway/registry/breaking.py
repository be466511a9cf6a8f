"""Breaking changes: what a new API schema does to clients written against the live one.

graphql-core's `find_breaking_changes` finds most of them: a type, field, argument, enum value,
union member or interface implementation removed; a field's type changed incompatibly (for an
output, made nullable or retyped; for an argument or input field, made non-null or retyped); a
required argument or input field added. Three more matter to clients and are found here:

- `ARG_MADE_REQUIRED` / `INPUT_FIELD_MADE_REQUIRED`: a non-null argument or input field lost its
  default value, so every operation that left it out stops validating (graphql-core calls this
  only "dangerous");
- `INPUT_BECAME_ONE_OF`: an input type became `@oneOf`, so inputs giving several fields fail;
- `ACCESS_TIGHTENED`: a field or type now asks for more (`@authenticated`, `@requiresScopes`,
  `@policy`) than before: callers who read it until now get null and an error.

Dangerous changes (an enum value or union member added, a default value changed, ...) are
reported but never refuse a change.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
    is_required_argument,
    is_required_input_field,
)

from gateway.schema.supergraph import AccessRule, Supergraph

_WITH_ARGS = (GraphQLObjectType, GraphQLInterfaceType)

_HINTS = {
    "TYPE_REMOVED": "keep the type until no client uses it",
    "TYPE_CHANGED_KIND": "keep the type's kind; add a new type under another name instead",
    "TYPE_REMOVED_FROM_UNION": "keep the member in the union",
    "VALUE_REMOVED_FROM_ENUM": "keep the enum value (mark it @deprecated) until no client uses it",
    "REQUIRED_INPUT_FIELD_ADDED": "make the new input field nullable or give it a default value",
    "IMPLEMENTED_INTERFACE_REMOVED": "keep the interface on the type",
    "FIELD_REMOVED": "keep the field (mark it @deprecated(reason: ...)) until no client reads it",
    "FIELD_CHANGED_KIND": "keep the field's type; add a new field with the new type instead",
    "REQUIRED_ARG_ADDED": "make the new argument nullable or give it a default value",
    "ARG_REMOVED": "keep the argument (mark it @deprecated) until no client sends it",
    "ARG_CHANGED_KIND": "keep the argument's type; add a new argument instead",
    "ARG_MADE_REQUIRED": "keep the argument's default value",
    "INPUT_FIELD_MADE_REQUIRED": "keep the input field's default value",
    "INPUT_BECAME_ONE_OF": "add a new @oneOf input type instead",
    "ACCESS_TIGHTENED": "keep the access rule, or announce the change to the clients first",
}


@dataclass(frozen=True, slots=True)
class SchemaChange:
    code: str
    description: str
    coordinate: str | None = None  # set where graphql-core's description does not name it

    @property
    def hint(self) -> str | None:
        return _HINTS.get(self.code)

    def to_json(self) -> dict[str, str]:
        out = {"code": self.code, "description": self.description}
        if self.coordinate:
            out["coordinate"] = self.coordinate
        if self.hint:
            out["hint"] = self.hint
        return out

    def __str__(self) -> str:
        hint = f" To fix: {self.hint}." if self.hint else ""
        return f"{self.code}: {self.description}{hint}"


def breaking_changes(old: Supergraph, new: Supergraph) -> list[SchemaChange]:
    """What breaks clients of `old`'s API schema when `new` is served instead."""
    changes = [
        SchemaChange(c.type.name, c.description)
        for c in find_breaking_changes(old.api_schema, new.api_schema)
    ]
    changes += _defaults_removed(old.api_schema, new.api_schema)
    changes += _access_tightened(old, new)
    return changes


def dangerous_changes(old: Supergraph, new: Supergraph) -> list[SchemaChange]:
    """Changes that may change what clients see, without making their operations fail."""
    found = find_dangerous_changes(old.api_schema, new.api_schema)
    # a default removed from a non-null argument or input field is breaking (reported there)
    removed = {
        f"{c.coordinate} defaultValue was removed."
        for c in _defaults_removed(old.api_schema, new.api_schema)
    }
    return [SchemaChange(c.type.name, c.description) for c in found if c.description not in removed]


def _defaults_removed(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    out: list[SchemaChange] = []
    for name, old_type in old.type_map.items():
        new_type = new.type_map.get(name)
        if name.startswith("__") or new_type is None:
            continue
        if isinstance(old_type, GraphQLInputObjectType) and isinstance(
            new_type, GraphQLInputObjectType
        ):
            if not getattr(old_type, "is_one_of", False) and getattr(new_type, "is_one_of", False):
                out.append(
                    SchemaChange("INPUT_BECAME_ONE_OF", f"{name} became a @oneOf input type.")
                )
            for field_name, old_field in old_type.fields.items():
                new_field = new_type.fields.get(field_name)
                if (
                    new_field is not None
                    and isinstance(old_field.type, GraphQLNonNull)  # else graphql-core tells
                    and not is_required_input_field(old_field)
                    and is_required_input_field(new_field)
                ):
                    out.append(
                        SchemaChange(
                            "INPUT_FIELD_MADE_REQUIRED",
                            f"{name}.{field_name} lost its default value: it is now required.",
                            f"{name}.{field_name}",
                        )
                    )
        if isinstance(old_type, _WITH_ARGS) and isinstance(new_type, _WITH_ARGS):
            for field_name, old_field in old_type.fields.items():
                new_field = new_type.fields.get(field_name)
                if new_field is None:
                    continue
                for arg_name, old_arg in old_field.args.items():
                    new_arg = new_field.args.get(arg_name)
                    if (
                        new_arg is not None
                        and isinstance(old_arg.type, GraphQLNonNull)  # else graphql-core tells
                        and not is_required_argument(old_arg)
                        and is_required_argument(new_arg)
                    ):
                        coordinate = f"{name}.{field_name}({arg_name}:)"
                        out.append(
                            SchemaChange(
                                "ARG_MADE_REQUIRED",
                                f"{coordinate} lost its default value: it is now required.",
                                coordinate,
                            )
                        )
    return out


def _access_tightened(old: Supergraph, new: Supergraph) -> list[SchemaChange]:
    out: list[SchemaChange] = []
    for name, old_type in old.api_schema.type_map.items():
        if name.startswith("__") or name not in new.api_schema.type_map:
            continue
        if not _implied(new.type_access.get(name), old.type_access.get(name)):
            rule = _describe(new.type_access.get(name))
            out.append(SchemaChange("ACCESS_TIGHTENED", f"reading {name} now needs {rule}.", name))
        new_type = new.api_schema.type_map[name]
        fields = getattr(old_type, "fields", None)
        if not isinstance(old_type, _WITH_ARGS) or fields is None:
            continue
        for field_name in fields:
            if field_name not in getattr(new_type, "fields", {}):
                continue
            coordinate = (name, field_name)
            new_rule = new.field_access.get(coordinate)
            if not _implied(new_rule, old.field_access.get(coordinate)):
                out.append(
                    SchemaChange(
                        "ACCESS_TIGHTENED",
                        f"reading {name}.{field_name} now needs {_describe(new_rule)}.",
                        f"{name}.{field_name}",
                    )
                )
    return out


def _implied(new: AccessRule | None, old: AccessRule | None) -> bool:
    """Does every caller that may read under `old` still may under `new`?"""
    if new is None:
        return True
    if old is None:
        return False
    if new.authenticated and not (old.authenticated or old.scopes):
        return False
    return _groups_implied(new.scopes, old.scopes) and _groups_implied(new.policies, old.policies)


def _groups_implied(new: tuple[frozenset[str], ...], old: tuple[frozenset[str], ...]) -> bool:
    """OR-of-AND groups: whoever holds all of some old group holds all of some new group."""
    if not new:
        return True
    if not old:
        return False
    return all(any(n <= o for n in new) for o in old)


def _describe(rule: AccessRule | None) -> str:
    if rule is None:
        return "nothing"
    parts = []
    if rule.authenticated:
        parts.append("@authenticated")
    if rule.scopes:
        parts.append(
            "@requiresScopes(" + " or ".join(" and ".join(sorted(g)) for g in rule.scopes) + ")"
        )
    if rule.policies:
        parts.append("@policy(" + " or ".join(" and ".join(sorted(g)) for g in rule.policies) + ")")
    return " ".join(parts)
