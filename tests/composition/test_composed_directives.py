"""@composeDirective: what the gateway reads from a supergraph with composed directives (the
accessor gateway code uses, the API schema clients see), and the errors of our own that the
reference library does not give. The composition itself is compared with the reference in
test_differential_composition.py (valid/composed_directives) and test_reference_deviations.py.
"""

from __future__ import annotations

import pytest
from graphql import graphql_sync, print_schema

from gateway.composition import CompositionFailed, SubgraphSource, compose
from gateway.schema.supergraph import load_supergraph
from tests.composition.subgraph_sets import VALID_SETS, load_set

HEADER = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.1", import: ["@key", "@composeDirective"])
  @link(url: "https://rugzak.dev/privacy/v0.1", import: ["@personalData"])
  @composeDirective(name: "@personalData")
"""


def _compose(**sdls: str) -> str:
    return compose([SubgraphSource(n, f"http://{n}.test/graphql", s) for n, s in sdls.items()])


def _fixture() -> str:
    return compose(load_set(VALID_SETS["valid/composed_directives"]))


def test_applications_by_schema_coordinate_with_arguments() -> None:
    supergraph = load_supergraph(_fixture())
    assert supergraph.applied_directives("dataSubject") == {
        "Citizen": [{"fields": "insz"}],
        "Person": [{"fields": "insz"}],
    }
    personal = supergraph.applied_directives("@personalData")
    assert personal["Citizen.email"] == [{"category": "CONTACT", "reason": "notifications"}]
    assert personal["Query.citizen(insz:)"] == [{"category": "IDENTITY"}]
    assert personal["Insz"] == [{"category": "IDENTITY"}]
    assert personal["Channel.POST"] == [{"category": "CONTACT"}]
    assert personal["ContactInput.address"] == [{"category": "CONTACT"}]
    assert personal["Citizen.secretScore"] == [{"category": "FINANCIAL"}]  # @inaccessible too
    assert supergraph.applied_directives("purpose")["Citizen"] == [
        {"name": "benefits"},
        {"name": "profile"},
    ]
    assert supergraph.applied_directives("logged") == {"Citizen.email": [{}], "Query.citizen": [{}]}
    assert supergraph.applied_directives("internalNote") == {}  # defined, never composed
    assert supergraph.applied_directives("key") == {}  # federation machinery is not composed


def test_arguments_are_coerced_with_the_definitions_defaults() -> None:
    sdl = (
        HEADER.replace("v2.1", "v2.3")
        + """
    directive @personalData(category: String!, level: Int = 2, tags: [String!]) on FIELD_DEFINITION
    type Query {
      name: String @personalData(category: "identity", tags: "single")
      email: String @personalData(category: "contact", level: 3)
    }
    """
    )
    supergraph = load_supergraph(_compose(a=sdl))
    assert supergraph.applied_directives("personalData") == {
        "Query.name": [{"category": "identity", "level": 2, "tags": ["single"]}],
        "Query.email": [{"category": "contact", "level": 3}],
    }


def test_the_api_schema_keeps_composed_directives_only() -> None:
    supergraph = load_supergraph(_fixture())
    assert "directive @dataSubject(fields: String!) on OBJECT | INTERFACE" in print_schema(
        supergraph.api_schema
    )
    printed = supergraph.api_sdl  # with the applications (print_schema leaves them out)
    assert '@dataSubject(fields: "insz") @purpose(name: "benefits")' in printed
    assert 'email: String @personalData(category: CONTACT, reason: "notifications") @logged' in (
        printed
    )
    assert "internalNote" not in printed and "join__" not in printed and "@key" not in printed
    assert "secretScore" not in printed
    result = graphql_sync(supergraph.api_schema, "{ __schema { directives { name } } }")
    assert result.errors is None and result.data is not None
    names = {d["name"] for d in result.data["__schema"]["directives"]}
    assert {"dataSubject", "personalData", "purpose", "logged"} <= names


def test_an_application_with_an_unknown_argument_is_refused() -> None:
    sdl = (
        HEADER
        + """
    directive @personalData(category: String!) on FIELD_DEFINITION
    type Query { name: String @personalData(category: "identity", level: 2) }
    """
    )
    with pytest.raises(CompositionFailed) as refused:
        _compose(a=sdl)
    (error,) = refused.value.errors
    assert (error.code, error.coordinate, error.subgraphs) == ("INVALID_GRAPHQL", "name", ("a",))
    assert 'unknown argument "level"' in error.message


def test_an_argument_another_subgraph_requires_is_refused_where_missing() -> None:
    optional = (
        HEADER
        + """
    directive @personalData(category: String) on FIELD_DEFINITION
    type Query { name: String @personalData }
    """
    )
    required = (
        HEADER
        + """
    directive @personalData(category: String!) on FIELD_DEFINITION
    type Query { email: String @personalData(category: "contact") }
    """
    )
    with pytest.raises(CompositionFailed) as refused:
        _compose(a=optional, b=required)
    (error,) = refused.value.errors
    assert (error.code, error.coordinate, error.subgraphs) == (
        "DIRECTIVE_COMPOSITION_ERROR",
        "Query.name",
        ("a",),
    )


def test_the_same_spec_under_two_names_is_refused() -> None:
    renamed = HEADER.replace(
        '@composeDirective(name: "@personalData")', '@composeDirective(name: "@pd")'
    )
    renamed = (
        renamed.replace('import: ["@personalData"]', 'import: [{name: "@personalData", as: "@pd"}]')
        + """
    directive @pd(category: String!) on FIELD_DEFINITION
    type Query { name: String @pd(category: "identity") }
    """
    )
    plain = (
        HEADER
        + """
    directive @personalData(category: String!) on FIELD_DEFINITION
    type Query { email: String @personalData(category: "contact") }
    """
    )
    with pytest.raises(CompositionFailed) as refused:
        _compose(a=renamed, b=plain)
    assert refused.value.codes == ["DIRECTIVE_COMPOSITION_ERROR"]
    assert "incompatible name across subgraphs" in refused.value.errors[0].message
