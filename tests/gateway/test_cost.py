"""The cost estimate: default weights, and @cost / @listSize read from a hand-written supergraph
that links them as Apollo's supergraphs do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from gateway.limits.cost import SLICING_ARGUMENT_REQUIRED, CostModel, cost_names
from gateway.limits.refusal import LimitExceeded
from gateway.operation import select_operation
from gateway.schema.supergraph import load_supergraph

HERE = Path(__file__).parent
COST_SDL = (HERE / "supergraph_cost.graphql").read_text()
SHOP = load_supergraph(COST_SDL)
REFERENCE = load_supergraph((HERE.parent.parent / "schema.graphql").read_text())


def estimate(
    query: str,
    variables: dict[str, Any] | None = None,
    list_size: int = 10,
    sdl: str | None = None,
) -> int:
    supergraph = SHOP if sdl is None else load_supergraph(sdl)
    document = parse(query)
    assert not validate(supergraph.api_schema, document)
    model = CostModel(supergraph.schema, supergraph.api_schema)
    operation = select_operation(document, None)
    return model.estimate(document, operation, variables or {}, list_size).cost


def test_default_weights_objects_one_scalars_nothing_lists_times_their_size() -> None:
    # categories: a list of the configured size (10) of Category, whose type weighs 7
    assert estimate("{ categories { name } }") == 10 * 7
    assert estimate("{ categories { name } }", list_size=3) == 3 * 7
    assert estimate("{ __typename }") == 0
    # on the reference supergraph, which carries no @cost: objects 1, scalars 0
    model = CostModel(REFERENCE.schema, REFERENCE.api_schema)
    assert not model.declared
    document = parse('{ municipality(nisCode: "44021") { name } municipalities { name } }')
    operation = select_operation(document, None)
    assert model.estimate(document, operation, {}, 10).cost == 1 + 10


def test_field_and_type_weights() -> None:
    # products: first defaults to 10; each Product 1 + price 5 + signature (a scalar weighing 4)
    assert estimate("{ products { id price signature } }") == 10 * (1 + 5 + 4)
    # a field's @cost replaces its type's weight; a type's @cost applies wherever it appears
    assert estimate("{ products(first: 2) { category { name } } }") == 2 * (1 + 7)


def test_slicing_arguments_literal_variable_default_and_the_largest() -> None:
    query = "{ products(first: 3) { id } }"
    assert estimate(query) == 3
    with_variable = "query($n: Int) { products(first: $n) { id } }"
    assert estimate(with_variable, {"n": 40}) == 40
    # the variable not given: the argument's default holds (not the configured list size)
    assert estimate(with_variable, {}, list_size=7) == 10
    assert estimate(with_variable, {"n": None}, list_size=7) == 7  # null: no size from it
    assert estimate("{ products(first: 3, last: 7) { id } }") == 7
    assert estimate("{ products(first: null, last: 4) { id } }") == 4


def test_assumed_size_and_nested_lists_multiply() -> None:
    assert estimate("{ featured { id } }") == 50
    # 50 products, each 1 + 3 reviews of 1
    assert estimate("{ featured { reviews { body } } }") == 50 * (1 + 3)


def test_sized_fields_take_the_size_of_their_connection() -> None:
    # search: the connection counts once (1), its argument 3; edges are sized by first (4), each
    # edge 1 + node 1 + price 5
    query = '{ search(term: "tent", first: 4) { totalCount edges { node { price } } } }'
    assert estimate(query) == 1 + 4 * (1 + 1 + 5) + 3


def test_a_required_slicing_argument_missing_is_refused() -> None:
    with pytest.raises(LimitExceeded) as refused:
        estimate('{ search(term: "tent") { totalCount } }')
    assert refused.value.code == SLICING_ARGUMENT_REQUIRED
    assert estimate("{ page(first: 6) { id } }") == 6


def test_mutations_cost_ten_and_input_objects_count_their_fields() -> None:
    # 10 for the mutation, Review 1, the input object 1 + tags (2 + each item 2)
    query = 'mutation { review(input: {body: "ok", tags: ["a", "b"]}) { body } }'
    assert estimate(query) == 10 + 1 + 1 + (2 + 2 + 2)
    variables = {"input": {"body": "ok", "tags": ["a", "b", "c"]}}
    with_variable = "mutation($input: ReviewInput!) { review(input: $input) { body } }"
    assert estimate(with_variable, variables) == 10 + 1 + 1 + (2 + 3 * 2)


def test_introspection_is_not_counted_and_skipped_fields_are_free() -> None:
    assert estimate("{ __schema { types { name fields { name } } } }") == 0
    assert estimate("{ featured @skip(if: true) { id } categories { name } }") == 70
    query = "query($on: Boolean!) { featured @include(if: $on) { id } }"
    assert estimate(query, {"on": False}) == 0
    assert estimate(query, {"on": True}) == 50


def test_fragments_are_counted_once_per_selection_set_and_by_their_type() -> None:
    query = (
        "{ featured { ...P ...P ... on Product { price } } node(id: 1) { ...P } }\n"
        "fragment P on Product { price }"
    )
    # featured: 50 x (1 + 5 + 5); node: an interface, 1 + the fragment on Product 5
    assert estimate(query) == 50 * 11 + 6


def test_renamed_and_namespaced_directives_are_followed() -> None:
    renamed = COST_SDL.replace(
        'import: ["@cost", "@listSize"]',
        'import: [{name: "@cost", as: "@weight"}, {name: "@listSize", as: "@size"}]',
    )
    renamed = renamed.replace("@cost(", "@weight(").replace("@listSize(", "@size(")
    assert estimate("{ featured { price } }", sdl=renamed) == 50 * 6
    # not imported: @cost keeps the namespace's own name, @listSize is @cost__listSize
    namespaced = COST_SDL.replace(', import: ["@cost", "@listSize"]', "")
    namespaced = namespaced.replace("@listSize(", "@cost__listSize(")
    supergraph = load_supergraph(namespaced)
    names = cost_names(supergraph.schema)
    assert names is not None and (names.cost, names.list_size) == ("cost", "cost__listSize")
    assert estimate("{ featured { price } }", sdl=namespaced) == 50 * 6
    # as Rugzak's composition writes it: one link for @cost, another importing @listSize
    split = COST_SDL.replace(
        '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])',
        '@link(url: "https://specs.apollo.dev/cost/v0.1") '
        '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])',
    )
    assert estimate("{ featured { price } }", sdl=split) == 50 * 6
    # directives of that name without the link are not the cost spec's
    unlinked = COST_SDL.replace(
        '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])', ""
    )
    assert estimate("{ featured { price } }", sdl=unlinked) == 10 * 1


def test_the_directives_stay_out_of_the_api_schema() -> None:
    assert "@listSize(" not in SHOP.api_sdl and "@cost(" not in SHOP.api_sdl


def test_the_directives_as_rugzaks_composition_carries_them_from_subgraphs() -> None:
    from gateway.composition import compose
    from tests.composition.subgraph_sets import VALID_SETS, load_set

    sdl = compose(load_set(VALID_SETS["valid/demand_control"]))
    # books: a connection (Book weighs 4, title 6 from the subgraph that says the most); its
    # edges sized by first (3)
    assert estimate("{ books(first: 3) { edges { title } } }", sdl=sdl) == 1 + 3 * (4 + 6)
    # search: a list assumed to hold 50 of weight 10 (the field's @cost), its argument 20
    assert estimate('{ search(text: "x") { id } }', sdl=sdl) == 50 * 10 + 20
    # reviews: limit sizes the list; the field weighs 3
    assert estimate("{ books { edges { reviews(limit: 2) { stars } } } }", sdl=sdl) == (
        1 + 10 * (4 + 2 * 3)
    )
