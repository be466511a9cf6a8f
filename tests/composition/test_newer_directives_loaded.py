"""What the gateway reads from supergraphs with @context / @fromContext and @cost / @listSize:
the metadata the planner and demand control use, and an API schema without contextual
arguments. (The composition itself is compared with the reference in the differential tests.)"""

from __future__ import annotations

from graphql import print_ast

from gateway.composition import compose
from gateway.schema.supergraph import load_supergraph
from tests.composition.subgraph_sets import VALID_SETS, load_set


def test_contexts_and_contextual_arguments() -> None:
    supergraph = load_supergraph(compose(load_set(VALID_SETS["valid/contexts"])))
    assert supergraph.contexts == {
        "Customer": ("shop__customer",),
        "Seller": ("shop__seller",),
        "Page": ("shop__page",),
        "Shipment": ("shipping__customer",),
    }
    (price,) = supergraph.field_in_graph("Offer", "price", "SHOP").context_arguments  # type: ignore[union-attr]
    assert (price.name, price.type, price.context) == ("currency", "String", "shop__seller")
    assert (
        print_ast(price.selection)
        == "{\n  ... on Shop {\n    currency\n  }\n  ... on Market {\n    money\n  }\n}"
    )
    (country,) = supergraph.field_in_graph("Basket", "shippingNote", "SHOP").context_arguments  # type: ignore[union-attr]
    assert print_ast(country.selection).split() == ["{", "address", "{", "country", "}", "}"]
    assert supergraph.field_in_graph("Basket", "shippingNote", "SHIPPING").context_arguments == ()  # type: ignore[union-attr]
    # clients never see (or give) a contextual argument
    basket = supergraph.api_schema.get_type("Basket")
    assert list(basket.fields["greeting"].args) == []  # type: ignore[union-attr]
    assert list(basket.fields["shippingNote"].args) == ["short"]  # type: ignore[union-attr]
    assert "context" not in supergraph.api_sdl


def test_cost_and_list_size_for_demand_control() -> None:
    supergraph = load_supergraph(compose(load_set(VALID_SETS["valid/demand_control"])))
    cost = supergraph.applied_directives("cost")
    assert cost["Book"] == [{"weight": 4}]
    assert cost["Book.title"] == [{"weight": 6}]  # the highest of the subgraphs' weights
    assert cost["Query.search(text:)"] == [{"weight": 20}]
    assert cost["BookFilter.author"] == [{"weight": 8}]
    assert cost["Json"] == [{"weight": 3}] and cost["Format"] == [{"weight": 2}]
    assert supergraph.applied_directives("listSize") == {
        "Query.books": [
            {
                "assumedSize": 100,
                "slicingArguments": ["first"],  # "last" is not an argument of the supergraph
                "sizedFields": ["edges", "nodes"],
                "requireOneSlicingArgument": False,
            }
        ],
        "Query.search": [{"assumedSize": 50, "requireOneSlicingArgument": True}],
        "Book.reviews": [{"slicingArguments": ["limit"], "requireOneSlicingArgument": True}],
    }
    assert "@cost" not in supergraph.api_sdl and "@listSize" not in supergraph.api_sdl


def test_renamed_cost_directives_are_found_by_their_spec_names() -> None:
    sdl = compose(load_set(VALID_SETS["valid/demand_control"]))
    renamed = sdl.replace("@cost(", "@demand(").replace("@listSize", "@size")
    renamed = renamed.replace(
        '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@size"])',
        '@link(url: "https://specs.apollo.dev/cost/v0.1", as: "demand", import: '
        '[{name: "@listSize", as: "@size"}])',
    )
    assert renamed != sdl
    original = load_supergraph(sdl)
    supergraph = load_supergraph(renamed)
    assert supergraph.applied_directives("cost") == original.applied_directives("cost")
    assert supergraph.applied_directives("listSize") == original.applied_directives("listSize")


def test_fields_taking_contexts_are_resolved_where_they_take_them() -> None:
    """A subgraph that takes a @fromContext argument resolves the field (the planner passes
    the value by an entity call: gateway/planning/contexts.py); which arguments it takes and
    from where, FieldInGraph.context_arguments says."""
    supergraph = load_supergraph(compose(load_set(VALID_SETS["valid/contexts"])))
    assert supergraph.resolvers[("Basket", "greeting")] == {"SHOP"}
    assert supergraph.resolvers[("Basket", "shippingNote")] == {"SHOP", "SHIPPING"}
    assert supergraph.resolvers[("Basket", "id")] == {"SHOP", "SHIPPING"}
    (argument,) = supergraph.field_in_graph("Basket", "greeting", "SHOP").context_arguments
    assert (argument.name, argument.context) == ("locale", "shop__customer")
