"""Rules the reference library cannot check for us (it lacks the feature) or that are about
how our errors read."""

from __future__ import annotations

import pytest

from gateway.composition import CompositionFailed, SubgraphSource, compose
from gateway.schema.supergraph import load_supergraph
from tests.composition.supergraph_facts import differences, facts

STANDARD = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "upc") { upc: ID! name: String @federation__shareable }
type Query { products: [Product!]! }
"""
RENAMED = """
extend schema
  @link(
    url: "https://specs.apollo.dev/federation/v2.3", as: "fed", import: [{name: "@key", as: "@id"}]
  )
schema { query: Root }
type Product @id(fields: "upc") { upc: ID! name: String @fed__shareable }
type Root { products: [Product!]! }
"""
OTHER = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
type Product @key(fields: "upc") { upc: ID! name: String @shareable price: Int }
"""


def _compose(**sdls: str) -> str:
    return compose([SubgraphSource(n, f"http://{n}.test/graphql", s) for n, s in sdls.items()])


def test_renamed_federation_imports_and_root_types_mean_the_same() -> None:
    standard = _compose(products=STANDARD, prices=OTHER)
    renamed = _compose(products=RENAMED, prices=OTHER)
    assert differences(facts(renamed), facts(standard)) == []


def test_the_supergraph_loads_in_the_gateway_with_its_api_schema() -> None:
    supergraph = load_supergraph(_compose(products=STANDARD, prices=OTHER))
    assert supergraph.resolvers[("Product", "price")] == {"PRICES"}
    assert "price: Int" in supergraph.api_sdl and "join__" not in supergraph.api_sdl


def test_an_error_names_code_coordinate_subgraphs_and_a_fix() -> None:
    with pytest.raises(CompositionFailed) as refused:
        _compose(products=STANDARD.replace("@federation__shareable", ""), prices=OTHER)
    (error,) = refused.value.errors
    assert (error.code, error.coordinate, error.subgraphs) == (
        "INVALID_FIELD_SHARING",
        "Product.name",
        ("prices", "products"),
    )
    assert str(error).startswith(
        "INVALID_FIELD_SHARING [Product.name] (subgraphs prices, products)"
    )
    assert "@shareable" in (error.hint or "")
