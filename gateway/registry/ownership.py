"""Who may change a subgraph, and which fields a subgraph may not take from another organisation.

Tokens (scopes in `scope`/`scp`, the organisation in `org`):

- `registry:write` with `org` = O: register a new subgraph name (it then belongs to O), and add
  versions to, remove, or roll back the subgraphs that belong to O. A name stays with its
  organisation after it is removed.
- `registry:admin` (the operator): all of that for any subgraph, and hand one to another
  organisation (`owner` in the request). The subgraphs seeded from the `--supergraph` file belong
  to the pseudo-organisation `operator`.
- `registry:read` (or either of the above): list, show, history.

The ownership rule, checked on what goes live, for the subgraph being changed (S, of
organisation O):

1. S may not `@override` a field from a subgraph of another organisation;
2. on a root type (Query, Mutation, Subscription) or an entity type (a type with a `@key`, or an
   `@interfaceObject`), S may not resolve a field that a subgraph of another organisation also
   resolves (a `@shareable` field), except the entity's key fields, which every subgraph that
   extends the entity repeats.

So Gent may add `Municipality.parkingZones` to the operator's `Municipality`, but may not answer
`Municipality.name`, nor a root field Leuven already answers. Value types (no key) may be shared
freely: their fields are only ever resolved by the subgraph that returned the parent object.
Each violation is reported with the code `OWNERSHIP_VIOLATION`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from graphql import FieldNode

from gateway.composition import CompositionError
from gateway.registry.errors import RegistryRefusal
from gateway.schema.supergraph import Supergraph

if TYPE_CHECKING:  # the composition worker imports the rule, and needs no token machinery
    from auth.principal import Principal

REGISTRY_READ = "registry:read"
REGISTRY_WRITE = "registry:write"
REGISTRY_ADMIN = "registry:admin"
OPERATOR = "operator"  # owner of the subgraphs seeded from the --supergraph file

ORGANISATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SUBGRAPH_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def check_name(name: str) -> None:
    if not SUBGRAPH_NAME.fullmatch(name):
        raise RegistryRefusal(
            400,
            "BAD_REQUEST",
            f"a subgraph name is a letter then up to 63 letters, digits, - or _, got {name!r}",
        )


def check_may_read(principal: Principal) -> None:
    _authenticated(principal)
    if not principal.scopes & {REGISTRY_READ, REGISTRY_WRITE, REGISTRY_ADMIN}:
        raise RegistryRefusal(
            403,
            "FORBIDDEN",
            f"reading the registry needs the scope {REGISTRY_READ}, {REGISTRY_WRITE} or "
            f"{REGISTRY_ADMIN}",
        )


def owner_for_change(
    principal: Principal, name: str, current_owner: str | None, requested: str | None
) -> str:
    """The organisation the subgraph belongs to after this change; RegistryRefusal (401/403)
    when the caller may not make it."""
    _authenticated(principal)
    if requested is not None and not ORGANISATION.fullmatch(requested):
        raise RegistryRefusal(
            400, "BAD_REQUEST", f"owner: a NIS code or agency code, got {requested!r}"
        )
    if principal.has_scope(REGISTRY_ADMIN):
        return requested or current_owner or principal.organisation or OPERATOR
    if not principal.has_scope(REGISTRY_WRITE):
        raise RegistryRefusal(
            403, "FORBIDDEN", f"changing the registry needs a token with the scope {REGISTRY_WRITE}"
        )
    org = principal.organisation
    if org is None:
        raise RegistryRefusal(
            403,
            "FORBIDDEN",
            "the token names no organisation (org claim): mint one with "
            "`rugzak token --registry --owner NIS_CODE`",
        )
    if current_owner is not None and current_owner != org:
        raise RegistryRefusal(
            403,
            "NOT_OWNER",
            f"subgraph {name} belongs to organisation {current_owner}; the token is for {org}",
        )
    if requested is not None and requested != org:
        raise RegistryRefusal(
            403,
            "NOT_OWNER",
            f"the token is for organisation {org}: it cannot register subgraphs for {requested}",
        )
    return org


def _authenticated(principal: Principal) -> None:
    if principal.is_anonymous:
        raise RegistryRefusal(
            401, "UNAUTHENTICATED", "the registry needs a bearer token (Authorization header)"
        )


def ownership_violations(
    supergraph: Supergraph, subgraph: str, owners: dict[str, str]
) -> list[CompositionError]:
    """Where `subgraph` (as composed into `supergraph`) takes fields of another organisation;
    `owners` maps every live subgraph's name, `subgraph`'s too, to its organisation."""
    org = owners[subgraph]
    names = {g.enum_value: g.name for g in supergraph.graphs.values()}
    enum = next((e for e, n in names.items() if n == subgraph), None)
    if enum is None:
        return []
    errors: list[CompositionError] = []
    for (type_name, field_name), graphs in sorted(supergraph.field_graphs.items()):
        info = graphs.get(enum)
        if info is None or info.override is None:
            continue
        from_org = owners.get(info.override)
        if from_org is not None and from_org != org:
            errors.append(
                CompositionError(
                    "OWNERSHIP_VIOLATION",
                    f'subgraph "{subgraph}" (organisation {org}) overrides '
                    f'"{type_name}.{field_name}" from subgraph "{info.override}", which belongs '
                    f"to organisation {from_org}",
                    (subgraph, info.override),
                    f"{type_name}.{field_name}",
                    f"remove @override from {type_name}.{field_name}, or ask organisation "
                    f"{from_org} to move the field to you",
                )
            )
    roots = {
        t.name
        for t in (
            supergraph.schema.query_type,
            supergraph.schema.mutation_type,
            supergraph.schema.subscription_type,
        )
        if t is not None
    }
    for (type_name, field_name), resolvers in sorted(supergraph.resolvers.items()):
        if enum not in resolvers or len(resolvers) < 2:
            continue
        keys = _key_fields(supergraph, type_name)
        if type_name not in roots and keys is None:
            continue  # a value type: shared freely
        if keys is not None and field_name in keys:
            continue
        foreign = sorted(
            names[g] for g in resolvers - {enum} if owners.get(names[g], OPERATOR) != org
        )
        if foreign:
            others = ", ".join(f'"{n}" ({owners.get(n, OPERATOR)})' for n in foreign)
            errors.append(
                CompositionError(
                    "OWNERSHIP_VIOLATION",
                    f'subgraph "{subgraph}" (organisation {org}) resolves '
                    f'"{type_name}.{field_name}", which subgraph {others} of another '
                    "organisation resolves too",
                    (subgraph, *foreign),
                    f"{type_name}.{field_name}",
                    f"rename the field in {subgraph}, or declare it @external there and "
                    "read it from its owner",
                )
            )
    return errors


def _key_fields(supergraph: Supergraph, type_name: str) -> frozenset[str] | None:
    """The top-level fields of any of the type's keys; None when it is not an entity."""
    graphs = supergraph.type_graphs.get(type_name, {})
    if not any(info.keys or info.is_interface_object for info in graphs.values()):
        return None
    return frozenset(
        selection.name.value
        for info in graphs.values()
        for key in info.keys
        for selection in key.selection.selections
        if isinstance(selection, FieldNode)
    )
