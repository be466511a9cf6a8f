"""The subgraphs' SDL: Federation v2 over HTTP, keys, descriptions everywhere, and composition."""

from __future__ import annotations

import shutil

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)

from subgraphs.allowances.schema import schema as allowances_schema
from subgraphs.common.federation import FEDERATION_LINK
from subgraphs.education.schema import schema as education_schema
from subgraphs.ticketing.schema import schema as ticketing_schema
from tests.subgraphs.conftest import Client

SCHEMAS: dict[str, strawberry.federation.Schema] = {
    "education": education_schema,
    "allowances": allowances_schema,
    "ticketing": ticketing_schema,
}

KEYS = {
    "education": [
        '@key(fields: "insz")',
        'type Institution @key(fields: "institutionNumber")',
        'type Municipality @key(fields: "nisCode", resolvable: false)',
    ],
    "allowances": [
        '@key(fields: "insz")',
        'type Institution @key(fields: "institutionNumber", resolvable: false)',
    ],
    "ticketing": [
        '@key(fields: "insz")',
        'type Ticket @dataSubject(fields: "reporter { insz }") @key(fields: "id")',
        'type Municipality @key(fields: "nisCode")',
    ],
}


def service_sdl(client: Client) -> str:
    sdl: str = client.data("{ _service { sdl } }")["_service"]["sdl"]
    return sdl


def test_service_sdl_is_federation_v2_with_keys(subgraph: Client) -> None:
    name = subgraph.server.name
    sdl = service_sdl(subgraph)
    assert f'@link(url: "{FEDERATION_LINK}", import: [' in sdl
    # whose data each entity is, for the gateway's per-object checks, and which fields are
    # personal data, for its access log
    privacy = (
        '@link(url: "https://rugzak.dev/privacy/v0.1", import: ["@dataSubject", "@personalData"])'
    )
    assert privacy in sdl
    assert (
        'schema @composeDirective(name: "@dataSubject") @composeDirective(name: "@personalData")'
        in sdl
    )
    assert 'insz: ID! @personalData(category: "identity")' in sdl
    assert 'type Citizen @dataSubject(fields: "insz") @key(fields: "insz")' in sdl
    assert FEDERATION_LINK == "https://specs.apollo.dev/federation/v2.7"
    for key in KEYS[name]:
        assert key in sdl, key
    assert 'me: Citizen @policy(policies: [["citizen-self"]]) @shareable' in sdl
    assert '): Citizen @policy(policies: [["citizen-self"], ["staff"]]) @shareable' in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl


def test_shared_value_types_are_shareable() -> None:
    for name in ("education", "allowances"):
        assert "type PersonName @shareable {" in SCHEMAS[name].as_str()
    assert "reportTicket(" in ticketing_schema.as_str()
    assert "): Ticket! @authenticated" in ticketing_schema.as_str()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_type_field_argument_and_value_is_described(name: str) -> None:
    schema = SCHEMAS[name]._schema
    missing: list[str] = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("_") or type_name.startswith("link__"):
            continue
        if isinstance(graphql_type, GraphQLEnumType):
            if not graphql_type.description:
                missing.append(type_name)
            missing += [
                f"{type_name}.{value}"
                for value, definition in graphql_type.values.items()
                if not definition.description
            ]
        elif isinstance(
            graphql_type, (GraphQLObjectType, GraphQLInputObjectType, GraphQLInterfaceType)
        ):
            if not graphql_type.description:
                missing.append(type_name)
            for field_name, field in graphql_type.fields.items():
                if field_name.startswith("_"):
                    continue  # _entities and _service come from the federation library
                if not field.description:
                    missing.append(f"{type_name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{type_name}.{field_name}({arg_name})")
    assert missing == []


def test_the_three_subgraphs_compose() -> None:
    compose_module = pytest.importorskip("tools.compose_supergraph")
    if shutil.which("node") is None or not compose_module.LIBRARY_DIR.exists():
        pytest.skip("the reference composition library (npm ci) is not installed")
    subgraphs = [
        compose_module.Subgraph(name, f"http://127.0.0.1:{4001 + i}/graphql", schema.as_str())
        for i, (name, schema) in enumerate(sorted(SCHEMAS.items()))
    ]
    supergraph: str = compose_module.compose(subgraphs)
    assert '@dataSubject(fields: "insz") @join__type(graph: ALLOWANCES, key: "insz")' in supergraph
    assert '@join__type(graph: EDUCATION, key: "insz")' in supergraph
    assert '@join__type(graph: TICKETING, key: "insz")' in supergraph


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_fields_that_cross_subgraphs_are_nullable(name: str) -> None:
    """A subgraph that is down must null only its own part of a profile, not the citizen.

    So every field a subgraph adds to the shared `Citizen`, and every field whose type is an
    entity another subgraph resolves (a `resolvable: false` stub), is nullable.
    """
    schema = SCHEMAS[name]._schema
    citizen = schema.type_map["Citizen"]
    assert isinstance(citizen, GraphQLObjectType)
    non_null = [
        field
        for field, definition in citizen.fields.items()
        if field != "insz" and isinstance(definition.type, GraphQLNonNull)
    ]
    assert non_null == []
    stubs = {"education": {"Municipality"}, "allowances": {"Institution"}, "ticketing": set()}[name]
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("_"):
            continue
        for field_name, field in graphql_type.fields.items():
            if get_named_type(field.type).name in stubs:
                assert not isinstance(field.type, GraphQLNonNull), f"{type_name}.{field_name}"
