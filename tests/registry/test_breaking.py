"""Breaking-change detection between two supergraphs' API schemas: what graphql-core finds, and
what it misses that matters to clients (defaults removed, @oneOf, access rules tightened)."""

from __future__ import annotations

import functools

import pytest

from gateway.composition import SubgraphSource, compose
from gateway.registry.breaking import breaking_changes, dangerous_changes
from gateway.schema.supergraph import Supergraph, load_supergraph

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", '
    'import: ["@key", "@shareable", "@requiresScopes", "@authenticated"])\n'
)

BASE = """
type Query {
  zones(filter: ZoneFilter, first: Int = 10, city: String): [Zone!]!
  zone(id: ID!): Zone
  search(term: String!): [Result!]!
}
type Zone implements Node @key(fields: "id") {
  id: ID!
  name: String!
  tariff: Int
  kind: Kind!
  note: String
}
interface Node { id: ID! }
type Street { name: String! }
union Result = Zone | Street
enum Kind { RESIDENT VISITOR BUSINESS }
input ZoneFilter { kind: Kind, maxTariff: Int = 500, city: String }
"""


@functools.cache
def supergraph(sdl: str) -> Supergraph:
    return load_supergraph(compose([SubgraphSource("parking", "http://p/graphql", LINK + sdl)]))


OLD = supergraph(BASE)


def codes(new_sdl: str) -> list[str]:
    return sorted(c.code for c in breaking_changes(OLD, supergraph(new_sdl)))


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("  tariff: Int\n", "", "FIELD_REMOVED"),
        ("  tariff: Int\n", "  tariff: String\n", "FIELD_CHANGED_KIND"),
        ("  name: String!\n", "  name: String\n", "FIELD_CHANGED_KIND"),
        ("enum Kind { RESIDENT VISITOR BUSINESS }", "scalar Kind", "TYPE_CHANGED_KIND"),
        ("first: Int = 10, city: String)", "first: Int = 10)", "ARG_REMOVED"),
        ("city: String)", "city: String!)", "ARG_CHANGED_KIND"),
        ("city: String)", "city: Int)", "ARG_CHANGED_KIND"),
        ("zone(id: ID!)", "zone(id: ID!, at: String!)", "REQUIRED_ARG_ADDED"),
        (
            "maxTariff: Int = 500, city: String",
            "maxTariff: Int = 500, city: String!",
            "FIELD_CHANGED_KIND",
        ),
        ("city: String }", "city: String, street: String! }", "REQUIRED_INPUT_FIELD_ADDED"),
        (
            "enum Kind { RESIDENT VISITOR BUSINESS }",
            "enum Kind { RESIDENT VISITOR }",
            "VALUE_REMOVED_FROM_ENUM",
        ),
        ("union Result = Zone | Street", "union Result = Zone", "TYPE_REMOVED_FROM_UNION"),
        ("type Zone implements Node @key", "type Zone @key", "IMPLEMENTED_INTERFACE_REMOVED"),
        ("first: Int = 10", "first: Int! = 10", "ARG_CHANGED_KIND"),  # an explicit null fails
        (
            "(filter: ZoneFilter, first: Int = 10",
            "(filter: ZoneFilter, first: Int!",
            "ARG_CHANGED_KIND",
        ),
        ("maxTariff: Int = 500", "maxTariff: Int! = 500", "FIELD_CHANGED_KIND"),
    ],
)
def test_graphql_core_kinds(old: str, new: str, code: str | None) -> None:
    assert old in BASE, old
    found = codes(BASE.replace(old, new))
    if code is None:
        assert found == []
    else:
        assert code in found, found


def test_a_removed_type_and_its_field() -> None:
    new = BASE.replace("type Street { name: String! }", "").replace(" | Street", "")
    assert "TYPE_REMOVED" in codes(new)


def test_default_removed_from_a_non_null_argument_makes_it_required() -> None:
    old = supergraph(BASE.replace("first: Int = 10", "first: Int! = 10"))
    new = supergraph(BASE.replace("first: Int = 10", "first: Int!"))
    changes = breaking_changes(old, new)
    assert [c.code for c in changes] == ["ARG_MADE_REQUIRED"]
    assert changes[0].coordinate == "Query.zones(first:)"
    assert "Query.zones(first:)" in str(changes[0])
    # and it is not reported a second time as merely dangerous
    assert not any("first" in c.description for c in dangerous_changes(old, new))


def test_default_removed_from_a_non_null_input_field_makes_it_required() -> None:
    old = supergraph(BASE.replace("maxTariff: Int = 500", "maxTariff: Int! = 500"))
    new = supergraph(BASE.replace("maxTariff: Int = 500", "maxTariff: Int!"))
    assert [c.code for c in breaking_changes(old, new)] == ["INPUT_FIELD_MADE_REQUIRED"]


def test_default_removed_from_a_nullable_argument_is_only_dangerous() -> None:
    new = supergraph(BASE.replace("first: Int = 10", "first: Int"))
    assert breaking_changes(OLD, new) == []
    assert [c.code for c in dangerous_changes(OLD, new)] == ["ARG_DEFAULT_VALUE_CHANGE"]


def test_access_tightened_is_breaking_and_loosened_is_not() -> None:
    scoped = BASE.replace(
        "  tariff: Int\n", '  tariff: Int @requiresScopes(scopes: [["parking:read"]])\n'
    )
    changes = breaking_changes(OLD, supergraph(scoped))
    assert [c.code for c in changes] == ["ACCESS_TIGHTENED"]
    assert changes[0].coordinate == "Zone.tariff"
    assert "parking:read" in changes[0].description
    assert breaking_changes(supergraph(scoped), OLD) == []  # loosened
    # another scope in place of the one the callers had: tightened for them
    other = scoped.replace("parking:read", "parking:admin")
    assert [c.code for c in breaking_changes(supergraph(scoped), supergraph(other))] == [
        "ACCESS_TIGHTENED"
    ]
    # one more alternative: every caller who could read still can
    either = scoped.replace('[["parking:read"]]', '[["parking:read"], ["parking:admin"]]')
    assert breaking_changes(supergraph(scoped), supergraph(either)) == []
    # a type newly @authenticated
    authed = BASE.replace("type Street {", "type Street @authenticated {")
    assert "ACCESS_TIGHTENED" in codes(authed)


def test_additions_are_not_breaking_but_some_are_dangerous() -> None:
    new = supergraph(
        BASE.replace("  note: String\n", "  note: String\n  capacity: Int\n")
        .replace("BUSINESS }", "BUSINESS CARSHARING }")
        .replace("city: String }", "city: String, street: String }")
    )
    assert breaking_changes(OLD, new) == []
    assert "VALUE_ADDED_TO_ENUM" in [c.code for c in dangerous_changes(OLD, new)]


def test_every_change_says_what_to_do() -> None:
    changes = breaking_changes(OLD, supergraph(BASE.replace("  tariff: Int\n", "")))
    assert changes[0].to_json() == {
        "code": "FIELD_REMOVED",
        "description": "Field Zone.tariff was removed.",
        "hint": "keep the field (mark it @deprecated(reason: ...)) until no client reads it",
    }
