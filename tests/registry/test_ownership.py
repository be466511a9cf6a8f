"""Who may change a subgraph (tokens), and the rule that a subgraph may not take the fields of
another organisation's subgraph (OWNERSHIP_VIOLATION)."""

from __future__ import annotations

import pytest

from auth.principal import Principal
from gateway.composition import SubgraphSource, compose
from gateway.registry.errors import RegistryRefusal
from gateway.registry.ownership import OPERATOR, owner_for_change, ownership_violations
from gateway.schema.supergraph import load_supergraph

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@shareable", "@override", "@external"])\n'
)
BASE = """
type Query { municipality(nisCode: ID!): Municipality @shareable }
type Municipality @key(fields: "nisCode") { nisCode: ID! name: String! @shareable }
type Address @shareable { street: String! city: String! }
type Office @key(fields: "id") { id: ID! address: Address! }
"""
OWNERS = {"base": OPERATOR, "gent": "44021", "leuven": "24062"}


def violations(new_name: str, new_sdl: str, owners: dict[str, str] | None = None) -> list[str]:
    sources = [
        SubgraphSource("base", "http://base/graphql", LINK + BASE),
        SubgraphSource(new_name, f"http://{new_name}/graphql", LINK + new_sdl),
    ]
    supergraph = load_supergraph(compose(sources))
    found = ownership_violations(supergraph, new_name, owners or OWNERS)
    assert all(e.code == "OWNERSHIP_VIOLATION" for e in found)
    return [e.coordinate or "" for e in found]


def test_adding_fields_to_another_organisations_entity_is_allowed() -> None:
    sdl = """
    type Municipality @key(fields: "nisCode") { nisCode: ID! parkingZones: [String!]! }
    type Query { parkingZones: [String!]! }
    """
    assert violations("gent", sdl) == []


def test_override_of_another_organisations_field_is_refused() -> None:
    sdl = """
    type Municipality @key(fields: "nisCode") { nisCode: ID! name: String! @override(from: "base") }
    type Query { x: Int }
    """
    assert violations("gent", sdl) == ["Municipality.name"]


def test_override_within_one_organisation_is_allowed() -> None:
    sdl = """
    type Municipality @key(fields: "nisCode") { nisCode: ID! name: String! @override(from: "base") }
    type Query { x: Int }
    """
    assert violations("gent", sdl, {"base": "44021", "gent": "44021"}) == []


def test_sharing_another_organisations_entity_field_is_refused() -> None:
    sdl = """
    type Municipality @key(fields: "nisCode") { nisCode: ID! name: String! @shareable }
    type Query { x: Int }
    """
    assert violations("gent", sdl) == ["Municipality.name"]


def test_sharing_another_organisations_root_field_is_refused() -> None:
    sdl = """
    type Query { municipality(nisCode: ID!): Municipality @shareable }
    type Municipality @key(fields: "nisCode") { nisCode: ID! }
    """
    assert violations("gent", sdl) == ["Query.municipality"]


def test_key_fields_and_value_types_may_be_shared() -> None:
    sdl = """
    type Address @shareable { street: String! city: String! }
    type Permit @key(fields: "id") { id: ID! address: Address! }
    type Municipality @key(fields: "nisCode") { nisCode: ID! permits: [Permit!]! }
    type Query { permit(id: ID!): Permit }
    """
    assert violations("gent", sdl) == []


def test_the_message_names_both_organisations_and_what_to_do() -> None:
    sources = [
        SubgraphSource("base", "http://base/graphql", LINK + BASE),
        SubgraphSource(
            "leuven",
            "http://leuven/graphql",
            LINK + 'type Municipality @key(fields: "nisCode") '
            '{ nisCode: ID! name: String! @override(from: "base") }\ntype Query { x: Int }',
        ),
    ]
    [error] = ownership_violations(load_supergraph(compose(sources)), "leuven", OWNERS)
    assert error.subgraphs == ("leuven", "base")
    assert "organisation 24062" in error.message and "organisation operator" in error.message
    assert error.hint and "@override" in error.hint


def principal(*scopes: str, org: str | None = None) -> Principal:
    return Principal(subject="ci", scopes=frozenset(scopes), organisation=org, token="t")


def refusal(*args: object) -> tuple[int, str]:
    with pytest.raises(RegistryRefusal) as caught:
        owner_for_change(*args)  # type: ignore[arg-type]
    return caught.value.status, caught.value.code


def test_a_new_name_is_claimed_for_the_callers_organisation() -> None:
    assert owner_for_change(principal("registry:write", org="44021"), "p", None, None) == "44021"
    assert owner_for_change(principal("registry:write", org="44021"), "p", None, "44021") == "44021"


def test_only_the_owner_with_the_scope_may_change_a_subgraph() -> None:
    gent = principal("registry:write", org="44021")
    assert owner_for_change(gent, "p", "44021", None) == "44021"
    assert refusal(principal("registry:write", org="24062"), "p", "44021", None) == (
        403,
        "NOT_OWNER",
    )
    assert refusal(principal("tickets:read", org="44021"), "p", "44021", None) == (403, "FORBIDDEN")
    assert refusal(principal("registry:write"), "p", None, None) == (403, "FORBIDDEN")  # no org
    assert refusal(gent, "p", None, "24062") == (403, "NOT_OWNER")  # for someone else
    assert refusal(Principal(), "p", None, None) == (401, "UNAUTHENTICATED")
    assert refusal(gent, "p", None, "not an org!") == (400, "BAD_REQUEST")


def test_the_operator_may_change_any_subgraph_and_hand_it_over() -> None:
    admin = principal("registry:admin")
    assert owner_for_change(admin, "p", "44021", None) == "44021"
    assert owner_for_change(admin, "p", "44021", "24062") == "24062"
    assert owner_for_change(admin, "p", None, None) == OPERATOR
