"""The fixture subgraph itself, in-process: SDL + JSON data -> federation answers."""

from __future__ import annotations

from typing import Any

from tests.federation.fixture_subgraph import FixtureSubgraph, parse_field_set

LINK = '@link(url: "https://specs.apollo.dev/federation/v2.3", import: [{imports}])'

SDL = f"""
extend schema {LINK.format(imports='"@key", "@external", "@requires"')}

type Query {{
  users: [User]
  user(id: ID!): User
  search(term: String!): [Result]
  node: Node
}}

interface Node {{ id: ID! }}

type User implements Node @key(fields: "id") @key(fields: "org {{ id }} login") {{
  id: ID!
  login: String
  org: Org
  name: String
  karma: Int @external
  badge: String @requires(fields: "karma")
}}

type Org {{ id: ID! }}

type Bot {{ id: ID! }}

union Result = User | Bot
"""

DATA: dict[str, Any] = {
    "Query": {
        "users": [
            {"__ref": {"__typename": "User", "id": "1"}},
            {"__error": {"message": "hidden", "extensions": {"code": "FORBIDDEN"}}},
            {"__ref": {"__typename": "User", "id": "404"}},
        ],
        "user": {"__lookup": "User"},
        "search": {
            "__cases": [
                {
                    "args": {"term": "a"},
                    "value": [
                        {"__typename": "Bot", "id": "b1"},
                        {"__ref": {"__typename": "User", "id": "2"}},
                    ],
                }
            ],
            "__default": [],
        },
        "node": {"__typename": "User", "id": "9", "name": "inline"},
    },
    "entities": {
        "User": [
            {
                "id": "1",
                "login": "ann",
                "org": {"id": "o1"},
                "name": "Ann",
                "badge": {"__format": "karma {karma}"},
            },
            {
                "id": "2",
                "login": "bob",
                "org": {"id": "o1"},
                "name": "Bob",
                "badge": {"__format": "karma {karma}"},
            },
        ]
    },
}


async def run(subgraph: FixtureSubgraph, query: str, **variables: Any) -> dict[str, Any]:
    return await subgraph.execute(query, variables or None)


async def test_service_sdl_is_the_sdl_as_written() -> None:
    subgraph = FixtureSubgraph(SDL, DATA)
    body = await run(subgraph, "{ _service { sdl } }")
    assert body == {"data": {"_service": {"sdl": SDL}}}


async def test_root_fields_refs_errors_and_missing_entities() -> None:
    body = await run(FixtureSubgraph(SDL, DATA), "{ users { id name } }")
    assert body["data"] == {"users": [{"id": "1", "name": "Ann"}, None, None]}
    [error] = body["errors"]
    assert error["path"] == ["users", 1]
    assert error["message"] == "hidden"
    assert error["extensions"] == {"code": "FORBIDDEN"}


async def test_lookup_cases_and_abstract_types() -> None:
    subgraph = FixtureSubgraph(SDL, DATA)
    body = await run(
        subgraph,
        """{
          user(id: "2") { login }
          missing: user(id: "3") { login }
          search(term: "a") { __typename ... on Bot { id } ... on User { login } }
          none: search(term: "z") { __typename }
          node { __typename id ... on User { name } }
        }""",
    )
    assert body == {
        "data": {
            "user": {"login": "bob"},
            "missing": None,
            "search": [{"__typename": "Bot", "id": "b1"}, {"__typename": "User", "login": "bob"}],
            "none": [],
            "node": {"__typename": "User", "id": "9", "name": "inline"},
        }
    }


async def test_entities_by_any_key_with_required_fields_from_the_representation() -> None:
    query = """query($r: [_Any!]!) {
      _entities(representations: $r) { __typename ... on User { id name badge } }
    }"""
    representations = [
        {"__typename": "User", "id": "1", "karma": 7},
        {"__typename": "User", "org": {"id": "o1"}, "login": "bob", "karma": 3},
        {"__typename": "User", "id": "nope"},
        {"__typename": "User", "login": "only part of a key"},
    ]
    body = await run(FixtureSubgraph(SDL, DATA), query, r=representations)
    assert body == {
        "data": {
            "_entities": [
                {"__typename": "User", "id": "1", "name": "Ann", "badge": "karma 7"},
                {"__typename": "User", "id": "2", "name": "Bob", "badge": "karma 3"},
                None,
                None,
            ]
        }
    }


async def test_entity_type_without_a_table_answers_the_representation() -> None:
    sdl = f"""extend schema {LINK.format(imports='"@key"')}
    type Product @key(fields: "upc") {{ upc: String! }}"""
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { upc } } }"""
    body = await run(FixtureSubgraph(sdl, {}), query, r=[{"__typename": "Product", "upc": "7"}])
    assert body == {"data": {"_entities": [{"upc": "7"}]}}


async def test_renamed_imports_unresolvable_keys_and_fed1_style_extensions() -> None:
    sdl = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",
                        import: [{name: "@key", as: "@primaryKey"}])
    extend type Query { me: Account }
    type Account @primaryKey(fields: "id") { id: ID! }
    type Ghost @primaryKey(fields: "id", resolvable: false) { id: ID! }
    """
    subgraph = FixtureSubgraph(sdl, {"Query": {"me": {"id": "a"}}})
    assert sorted(subgraph.keys) == ["Account"]
    body = await run(subgraph, '{ me { id } __type(name: "_Entity") { possibleTypes { name } } }')
    assert body["data"] == {"me": {"id": "a"}, "__type": {"possibleTypes": [{"name": "Account"}]}}


async def test_no_entities_means_no_entities_field() -> None:
    sdl = f"""extend schema {LINK.format(imports='"@shareable"')}
    type Query {{ hello: String @shareable }}"""
    subgraph = FixtureSubgraph(sdl, {"Query": {"hello": "hi"}})
    body = await run(subgraph, "{ hello _service { sdl } }")
    assert body["data"]["hello"] == "hi"
    assert subgraph.schema.query_type is not None
    assert "_entities" not in subgraph.schema.query_type.fields


def test_field_sets_parse_into_nested_keys() -> None:
    key = parse_field_set("id org { id }")
    assert key.project({"id": 1, "org": {"id": 2, "x": 3}, "y": 4}) == {"id": 1, "org": {"id": 2}}
    assert key.project({"id": 1}) is None


async def test_entity_interface_representations_answer_the_implementing_type() -> None:
    sdl = f"""extend schema {LINK.format(imports='"@key"')}
    interface Node @key(fields: "id") {{ id: ID! }}
    type Citizen implements Node @key(fields: "id") {{ id: ID! name: String }}
    type Municipality implements Node @key(fields: "id") {{ id: ID! nis: String }}
    type Query {{ node(id: ID!): Node }}"""
    data = {
        "entities": {
            "Citizen": [{"id": "c1", "name": "An"}],
            "Municipality": [{"id": "m1", "nis": "44021"}],
        }
    }
    subgraph = FixtureSubgraph(sdl, data)
    assert sorted(subgraph.keys) == ["Citizen", "Municipality"]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      __typename ... on Citizen { name } ... on Municipality { nis } } }"""
    representations = [
        {"__typename": "Node", "id": "m1"},
        {"__typename": "Node", "id": "c1"},
        {"__typename": "Node", "id": "zz"},
        {"__typename": "Citizen", "id": "c1"},
    ]
    body = await run(subgraph, query, r=representations)
    assert body == {
        "data": {
            "_entities": [
                {"__typename": "Municipality", "nis": "44021"},
                {"__typename": "Citizen", "name": "An"},
                None,
                {"__typename": "Citizen", "name": "An"},
            ]
        }
    }


FED1_SDL = """
type Citizen @key(fields: "id") @key(fields: "insz") {
  id: ID!
  insz: String!
  name: String
}

extend type School @key(fields: "id") {
  id: ID! @external
  pupils: [Citizen]
}

type Permit @extends @key(fields: "number") {
  number: ID! @external
  kind: String
}

extend type Query {
  citizens: [Citizen]
}
"""


async def test_federation_1_sdl_plain_directive_names_extend_type_and_extends() -> None:
    data = {
        "Query": {"citizens": [{"__ref": {"__typename": "Citizen", "insz": "85.07.30-033.61"}}]},
        "entities": {
            "Citizen": [{"id": "c1", "insz": "85.07.30-033.61", "name": "An"}],
            "School": [{"id": "s1", "pupils": [{"__ref": {"__typename": "Citizen", "id": "c1"}}]}],
        },
    }
    subgraph = FixtureSubgraph(FED1_SDL, data)
    assert sorted(subgraph.keys) == ["Citizen", "Permit", "School"]
    assert await run(subgraph, "{ _service { sdl } }") == {"data": {"_service": {"sdl": FED1_SDL}}}
    query = """query($r: [_Any!]!) { citizens { id }
      _entities(representations: $r) {
        __typename
        ... on Citizen { id name }
        ... on School { pupils { insz } }
        ... on Permit { number kind }
      }
    }"""
    representations = [
        {"__typename": "Citizen", "insz": "85.07.30-033.61"},
        {"__typename": "School", "id": "s1"},
        {"__typename": "School", "id": "s9"},
        {"__typename": "Permit", "number": "P-1"},
    ]
    body = await run(subgraph, query, r=representations)
    assert body == {
        "data": {
            "citizens": [{"id": "c1"}],
            "_entities": [
                {"__typename": "Citizen", "id": "c1", "name": "An"},
                {"__typename": "School", "pupils": [{"insz": "85.07.30-033.61"}]},
                None,
                {"__typename": "Permit", "number": "P-1", "kind": None},
            ],
        }
    }


async def test_format_with_missing_shows_which_required_values_arrived() -> None:
    sdl = f"""extend schema {LINK.format(imports='"@key"')}
    type Citizen @key(fields: "id") {{ id: ID! benefit: String strict: String }}"""
    template = "{household[income]} / {household[children]} / {address[city]}"
    data = {
        "entities": {
            "Citizen": [
                {
                    "id": "c1",
                    "benefit": {"__format": template, "__missing": "-"},
                    "strict": {"__format": template},
                }
            ]
        }
    }
    query = """query($r: [_Any!]!) {
      _entities(representations: $r) { ... on Citizen { benefit strict } } }"""
    representations = [
        {
            "__typename": "Citizen",
            "id": "c1",
            "household": {"income": 100, "children": 2},
            "address": {"city": "Gent"},
        },
        {"__typename": "Citizen", "id": "c1", "household": {"income": 90}, "address": None},
        {"__typename": "Citizen", "id": "c1", "household": None},
    ]
    body = await run(FixtureSubgraph(sdl, data), query, r=representations)
    assert body["data"] == {
        "_entities": [
            {"benefit": "100 / 2 / Gent", "strict": "100 / 2 / Gent"},
            {"benefit": "90 / - / None", "strict": None},
            {"benefit": "None / None / -", "strict": None},
        ]
    }
    assert [error["path"] for error in body["errors"]] == [
        ["_entities", 1, "strict"],
        ["_entities", 2, "strict"],
    ]
