"""Smoke test of the oracles together: the `products` fixture set through Hive Gateway.

products owns Product (upc, name, price, weight) and Query.topProducts; inventory adds inStock and
shippingNote @requires(fields: "price weight"); reviews adds reviews and rating, and its
Review.product @provides(fields: "name"). Rugzak's gateway must give the same answers.
"""

from __future__ import annotations

from typing import Any

from tests.federation.harness import Federation, comparable, fixture_set_names

QUERY = """
query Top {
  topProducts {
    upc
    name
    price
    inStock
    shippingNote
    reviews { id body product { upc name } }
  }
}
"""

EXPECTED: dict[str, Any] = {
    "topProducts": [
        {
            "upc": "1",
            "name": "Table",
            "price": 899,
            "inStock": True,
            "shippingNote": "100 g, 899 cents",
            "reviews": [
                {"id": "r1", "body": "Love it!", "product": {"upc": "1", "name": "Table"}},
                {"id": "r2", "body": "Too expensive.", "product": {"upc": "1", "name": "Table"}},
            ],
        },
        {
            "upc": "2",
            "name": "Couch",
            "price": 1299,
            "inStock": False,
            "shippingNote": "1000 g, 1299 cents",
            "reviews": [
                {"id": "r3", "body": "Could be better.", "product": {"upc": "2", "name": "Couch"}},
            ],
        },
        {
            "upc": "3",
            "name": "Chair",
            "price": 54,
            "inStock": True,
            "shippingNote": "50 g, 54 cents",
            "reviews": [],
        },
    ]
}


def test_the_products_fixture_set_exists() -> None:
    assert "products" in fixture_set_names()


def test_stitched_answer_across_three_subgraphs(products_federation: Federation) -> None:
    fixtures, hive = products_federation.fixtures, products_federation.hive
    fixtures.clear_request_logs()
    body = hive.query(QUERY, headers={"Authorization": "Bearer citizen-1"})
    assert body == {"data": EXPECTED}

    logs = {name: fixtures.request_log(name) for name in fixtures.subgraphs}
    # Every subgraph call carried the caller's Authorization header.
    for name, log in logs.items():
        assert log, f"{name} was not called"
        assert {entry["headers"].get("authorization") for entry in log} == {"Bearer citizen-1"}
    # @requires: inventory got price and weight (from products) in its representations.
    representations = [
        rep
        for entry in logs["inventory"]
        for value in (entry["variables"] or {}).values()
        if isinstance(value, list)
        for rep in value
    ]
    assert {"__typename": "Product", "upc": "2", "price": 1299, "weight": 1000} in representations
    # @provides: Review.product.name came from reviews; products only served the root field.
    assert len(logs["products"]) == 1
    assert "_entities" not in logs["products"][0]["query"]


def test_a_failing_entity_field_nulls_only_itself_with_its_path(
    products_federation: Federation,
) -> None:
    body = products_federation.hive.query("{ topProducts { name rating } }")
    assert body["data"] == {
        "topProducts": [
            {"name": "Table", "rating": 4.5},
            {"name": "Couch", "rating": None},
            {"name": "Chair", "rating": 3.0},
        ]
    }
    assert comparable(body)["error_paths"] == [["topProducts", 1, "rating"]]
    assert body["errors"][0]["message"] == "rating service down"


def test_subgraphs_answer_directly_for_the_rugzak_side(products_federation: Federation) -> None:
    """The pieces the Rugzak gateway will be started on: subgraph URLs and the supergraph file."""
    fixtures = products_federation.fixtures
    assert fixtures.supergraph_path.read_text() == fixtures.supergraph_sdl
    for name in ("products", "inventory", "reviews"):
        assert f'url: "{fixtures.subgraph_url(name)}"' in fixtures.supergraph_sdl
