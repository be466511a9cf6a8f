"""Personal data is declared in the subgraphs' schemas (`@personalData(category:)`, composed by
`@composeDirective`), and the gateway reads it per object type and field: on a field, on a type
(each of its fields), on an interface or an interface's field (each implementation)."""

from __future__ import annotations

import pytest

from gateway.composition import CompositionFailed, SubgraphSource, compose
from gateway.schema.supergraph import load_supergraph
from tests.e2e.stack import SUPERGRAPH

LINK = """extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
  @link(url: "https://rugzak.dev/privacy/v0.1", import: ["@dataSubject", "@personalData"])
  @composeDirective(name: "@dataSubject") @composeDirective(name: "@personalData")
directive @dataSubject(fields: String!) on OBJECT | INTERFACE
directive @personalData(category: String!) on FIELD_DEFINITION | OBJECT | INTERFACE
"""


def test_every_personal_field_of_the_reference_subgraphs_is_declared() -> None:
    supergraph = load_supergraph(SUPERGRAPH.read_text(encoding="utf-8"))
    roots = {"Query", "Mutation"}
    # a field only the citizen themselves (or a civil servant with a purpose) may read is
    # personal data: each one carries a category
    guarded = {
        coordinate
        for coordinate, rule in supergraph.field_access.items()
        if coordinate[0] not in roots and any("citizen-self" in group for group in rule.policies)
    }
    assert guarded, "the reference subgraphs guard personal fields with citizen-self"
    assert guarded <= supergraph.personal_fields.keys()
    assert supergraph.personal_fields == {
        ("ChildBenefitEntitlement", "bankAccount"): "bank-account",
        ("Citizen", "accessLog"): "access-log",
        ("Citizen", "childBenefits"): "child-benefit",
        ("Citizen", "insz"): "identity",
        ("Citizen", "name"): "identity",
        ("Citizen", "qualifications"): "education",
        ("Citizen", "studyGrantApplications"): "study-grant",
        ("Citizen", "tickets"): "tickets",
        ("Ticket", "description"): "tickets",
        ("Ticket", "location"): "tickets",
        ("Ticket", "publicUpdates"): "tickets",
        ("Ticket", "reporter"): "tickets",
        ("Ticket", "statusHistory"): "tickets",
    }


def test_a_municipality_declares_its_own_on_types_interfaces_and_fields() -> None:
    city = (
        LINK
        + """
type Query { permits: [Permit!]! holders: [Holder!]! }
interface Holder @personalData(category: "permits") { id: ID! plate: String! }
type Resident implements Holder @key(fields: "id") { id: ID! plate: String! street: String! }
type Company implements Holder @key(fields: "id") @personalData(category: "companies") {
  id: ID! plate: String!
}
type Permit @key(fields: "id") @dataSubject(fields: "insz") {
  id: ID!
  insz: ID!
  zone: String!
  vehicle: Vehicle @personalData(category: "vehicles")
}
type Vehicle @personalData(category: "vehicles") { plate: String! colour: String! }
"""
    )
    sdl = compose([SubgraphSource("city", "http://127.0.0.1/city/graphql", city)])
    personal = load_supergraph(sdl).personal_fields
    assert personal == {
        ("Permit", "vehicle"): "vehicles",
        ("Vehicle", "plate"): "vehicles",
        ("Vehicle", "colour"): "vehicles",
        ("Resident", "id"): "permits",  # from the interface
        ("Resident", "plate"): "permits",
        ("Resident", "street"): "permits",
        ("Company", "id"): "companies",  # its own declaration first
        ("Company", "plate"): "companies",
    }


def test_two_subgraphs_that_disagree_on_a_category_do_not_compose() -> None:
    def person(root: str, category: str) -> str:
        shareable = LINK.replace('"@composeDirective"]', '"@composeDirective", "@shareable"]')
        return (
            shareable
            + f"""type Query {{ {root}: Person }}
type Person @key(fields: "id") {{
  id: ID!
  name: String @shareable @personalData(category: "{category}")
}}"""
        )

    sources = [
        SubgraphSource("a", "http://a/graphql", person("a", "identity")),
        SubgraphSource("b", "http://b/graphql", person("b", "contact")),
    ]
    with pytest.raises(CompositionFailed) as failed:
        compose(sources)
    assert "INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS" in failed.value.codes


def test_without_the_privacy_spec_nothing_is_personal() -> None:
    plain = """extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { people: [Person!]! }
type Person @key(fields: "id") { id: ID! name: String! }
"""
    sdl = compose([SubgraphSource("plain", "http://127.0.0.1/plain/graphql", plain)])
    assert load_supergraph(sdl).personal_fields == {}
