"""Planner unit tests over a small composed supergraph (accounts, reviews, products, inventory).

The supergraph was composed by the reference composition library from SDLs in the style of the
public federation demo; these tests check plan shape, not execution (that is tested over HTTP).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, print_schema, validate

from gateway.errors import SupergraphError
from gateway.operation import normalize, select_operation
from gateway.pipeline.plan import active_override_labels
from gateway.planning import Planner, QueryPlan
from gateway.planning.render import render_plan
from gateway.schema.supergraph import Supergraph, load_supergraph

SDL = (Path(__file__).parent / "supergraph_reviews.graphql").read_text()


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    return load_supergraph(SDL)


def plan_of(sg: Supergraph, query: str, variables: dict[str, object] | None = None) -> QueryPlan:
    document = parse(query)
    assert not validate(sg.api_schema, document)
    op = normalize(sg.api_schema, document, select_operation(document, None), variables or {})
    return Planner(sg).plan(op)


def test_reads_graphs_keys_and_owners(supergraph: Supergraph) -> None:
    assert {g.name for g in supergraph.graphs.values()} == {
        "accounts", "inventory", "products", "reviews",
    }  # fmt: skip
    assert [k.fields for k in supergraph.resolvable_keys("Product", "INVENTORY")] == ["upc"]
    assert supergraph.can_resolve("User", "name", "ACCOUNTS")
    assert not supergraph.can_resolve("User", "username", "REVIEWS")  # external there
    assert supergraph.can_resolve("Product", "upc", "REVIEWS")  # key field, no @join__field


def test_api_schema_hides_federation_machinery(supergraph: Supergraph) -> None:
    printed = print_schema(supergraph.api_schema)
    assert "join__" not in printed and "link__" not in printed and "@link" not in printed
    assert "type Product" in printed


def test_root_fields_of_one_subgraph_share_a_fetch(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "{ me { name } users { id } }")
    assert [f.service for f in plan.fetches] == ["accounts"]


def test_entity_hop_carries_key_and_depends_on_parent(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "{ topProducts { name reviews { body } } }")
    root, hop = plan.fetches
    assert root.service == "products" and "upc" in root.document and "__typename" in root.document
    assert hop.service == "reviews" and hop.depends_on == (root.id,)
    assert hop.representations is not None
    assert [f.name for f in hop.representations["Product"]] == ["upc"]
    assert "_entities" in hop.document


def test_requires_fields_join_the_representation(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "{ topProducts { shippingEstimate } }")
    root, inventory = plan.fetches
    assert "price" in root.document and "weight" in root.document
    assert inventory.representations is not None
    assert {f.name for f in inventory.representations["Product"]} == {"upc", "price", "weight"}


def test_provides_avoids_a_fetch(supergraph: Supergraph) -> None:
    with_provides = plan_of(supergraph, "{ topProducts { reviews { author { username } } } }")
    assert len(with_provides.fetches) == 2  # username comes with the review
    without = plan_of(supergraph, "{ topProducts { reviews { author { name } } } }")
    assert [f.service for f in without.fetches] == ["products", "reviews", "accounts"]


def test_client_alias_never_clashes_with_a_key(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "{ topProducts { upc: name reviews { body } } }")
    root, hop = plan.fetches
    assert "upc:name" in root.document and "_rzx_upc:upc" in root.document
    assert hop.representations is not None
    assert hop.representations["Product"][0].key == "_rzx_upc"


def test_union_members_are_typed_fragments(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "{ media { ... on Book { title } ... on Movie { duration } } }")
    (fetch,) = plan.fetches
    assert "__typename" in fetch.document
    assert "...on Book{title}" in fetch.document and "...on Movie{duration}" in fetch.document


def test_skip_and_include_are_decided_before_planning(supergraph: Supergraph) -> None:
    query = "query($x: Boolean!) { topProducts { name reviews @include(if: $x) { body } } }"
    assert len(plan_of(supergraph, query, {"x": True}).fetches) == 2
    assert len(plan_of(supergraph, query, {"x": False}).fetches) == 1


def test_variable_defaults_travel_to_the_subgraph(supergraph: Supergraph) -> None:
    plan = plan_of(supergraph, "query($n: Int = 3) { topProducts(first: $n) { name } }")
    assert "$n:Int=3" in plan.fetches[0].document
    assert plan.fetches[0].variable_names == ("n",)


def test_plan_renders_readably(supergraph: Supergraph) -> None:
    text = render_plan(plan_of(supergraph, "{ topProducts { name inStock } reviews: me { id } }"))
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:3] == ["QueryPlan (3 fetches) {", "Parallel {", "Sequence {"]
    assert "Fetch #0 from 'products' {" in lines
    assert "Entity fetch #1 from 'inventory' at topProducts {" in lines
    assert "representations: Product { upc }" in lines


def test_rejects_sdl_that_is_not_a_supergraph() -> None:
    with pytest.raises(SupergraphError):
        load_supergraph("type Query { a: Int }")


MEDIA = load_supergraph((Path(__file__).parent / "supergraph_media.graphql").read_text())


def test_interface_members_hop_to_their_own_subgraphs() -> None:
    query = """{ search { __typename title
        ... on Book { author { name age } } ... on Movie { director } } }"""
    plan = plan_of(MEDIA, query)
    by_path = {(f.service, tuple(s.key for s in f.path)): f for f in plan.fetches}
    assert set(by_path) == {
        ("a", ()), ("b", ("search",)), ("c", ("search", "author")), ("c", ("search",)),
    }  # fmt: skip
    books = by_path[("b", ("search",))]
    assert books.representations is not None and set(books.representations) == {"Book"}
    movies = by_path[("c", ("search",))]
    assert movies.representations is not None and set(movies.representations) == {"Movie"}
    # below an abstract position the path names the member, so Movie objects are never walked
    people = by_path[("c", ("search", "author"))]
    assert people.path[1].types == frozenset({"Book"})


MUTATIONS = load_supergraph((Path(__file__).parent / "supergraph_mutations.graphql").read_text())


def test_mutations_run_in_order_each_with_its_own_entity_fetches() -> None:
    plan = plan_of(
        MUTATIONS,
        """mutation {
             one: increment(id: "c") { value history }
             two: increment(id: "c") { value }
             three: reset(id: "c") { value }
             four: increment(id: "c") { history }
           }""",
    )
    steps = [(f.service, f.is_entity_fetch, f.field_keys) for f in plan.fetches]
    assert steps == [
        (
            "counters",
            False,
            (("one",), ("two",)),
        ),  # consecutive fields of one subgraph share a fetch
        ("audit", True, (("history",),)),
        ("audit", False, (("three",),)),
        ("counters", True, (("value",),)),
        ("counters", False, (("four",),)),
        ("audit", True, (("history",),)),
    ]
    ids = [f.id for f in plan.fetches]
    # each mutation fetch waits for everything before it, entity fetches included
    assert plan.fetches[2].depends_on == (ids[0], ids[1])
    assert plan.fetches[4].depends_on == (ids[2], ids[3])
    assert all(f.operation_kind == "query" for f in plan.fetches if f.is_entity_fetch)


OVERRIDE = load_supergraph((Path(__file__).parent / "supergraph_override.graphql").read_text())


def test_override_moves_a_field_and_progressive_override_follows_its_label() -> None:
    def services(field: str, labels: frozenset[str] = frozenset()) -> list[str]:
        document = parse(f"{{ products {{ {field} }} }}")
        op = normalize(OVERRIDE.api_schema, document, select_operation(document, None), {})
        return [f.service for f in Planner(OVERRIDE).plan(op, labels).fetches]

    assert services("stock") == ["old", "new"]  # plain @override: always the new subgraph
    assert services("price") == ["old"]  # label off: the field stays where it was
    assert services("price", frozenset({"percent(30)"})) == ["old", "new"]
    assert services("discount", frozenset({"beta-pricing"})) == ["old", "new"]
    assert OVERRIDE.override_labels == {"percent(30)", "beta-pricing"}


def test_override_labels_are_drawn_per_request_or_switched_on() -> None:
    labels = frozenset({"percent(30)", "beta-pricing"})
    assert active_override_labels(labels, frozenset(), draw=lambda: 0.29) == {"percent(30)"}
    assert active_override_labels(labels, frozenset(), draw=lambda: 0.30) == frozenset()
    switched = active_override_labels(labels, frozenset({"beta-pricing"}), draw=lambda: 0.99)
    assert switched == {"beta-pricing"}


REQUIRES = load_supergraph((Path(__file__).parent / "supergraph_requires.graphql").read_text())


def test_a_field_with_requires_is_never_selected_inline_in_its_own_subgraph() -> None:
    # warehouse resolves Product.area, but only from a representation carrying `width`
    fetches = plan_of(REQUIRES, "{ products { area } }").fetches
    root, width, area = sorted(fetches, key=lambda f: (f.is_entity_fetch, f.service != "catalog"))
    assert root.service == "warehouse" and "area" not in root.document
    assert width.service == "catalog" and "width" in width.document
    assert area.service == "warehouse" and area.is_entity_fetch
    assert area.representations is not None
    assert {f.name for f in area.representations["Product"]} == {"sku", "width"}
    assert set(area.depends_on) == {root.id, width.id}
