"""Keys and @requires values the planner asks for itself: response keys that never hand one
field's value to another, representations that carry each requirement's own value, and entity
fetches that join only when that stays true and no fetch waits for itself.

The planner-level cases use the differential fixture set `requires` (composed by our composer),
whose operations check the same answers over HTTP against the reference gateway.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.composition.compose import SubgraphSource, compose
from gateway.errors import PlanningError
from gateway.execution.merge import representation
from gateway.operation import NField, normalize, select_operation
from gateway.planning import Planner, QueryPlan
from gateway.planning.fetches import Fetches
from gateway.planning.internal_fields import (
    identifying,
    internal_key,
    merge_reps,
    public_path,
    reps_fit,
    requirements_conflict,
)
from gateway.planning.plan import RepField
from gateway.planning.selection import SelectionBuilder
from gateway.response_keys import client_key, stored_key
from gateway.schema.supergraph import Supergraph, load_supergraph

FIXTURE = Path(__file__).parent.parent / "federation" / "fixtures" / "requires"


def _field(text: str) -> NField:
    """An NField for `name(args)` as a client would write it at the query root."""
    node = parse("{" + text + "}").definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    key = node.alias.value if node.alias else node.name.value
    return NField(key, node.name.value, tuple(node.arguments or ()), None, None, (node,), "Query")  # type: ignore[arg-type]


def _selection(text: str):  # type: ignore[no-untyped-def]
    return parse("{" + text + "}").definitions[0].selection_set  # type: ignore[attr-defined]


# -- response keys ---------------------------------------------------------------------------


def test_a_field_without_arguments_takes_its_own_name_when_free() -> None:
    assert internal_key(_field("id"), SelectionBuilder(), {}) == "id"


def test_a_field_with_arguments_gets_an_alias_naming_them() -> None:
    y2023 = internal_key(_field("income(year: 2023)"), SelectionBuilder(), {})
    y2024 = internal_key(_field("income(year: 2024)"), SelectionBuilder(), {})
    assert y2023.startswith("_rz") and y2023.endswith("_income") and y2023 != "_rz_income"
    assert y2023 != y2024
    # the same arguments written differently (another place in another document) share a key
    assert internal_key(_field("income( year :2023 )"), SelectionBuilder(), {}) == y2023


def test_the_clients_identical_field_is_shared_even_under_an_alias() -> None:
    client = {"y2024": _field("y2024: income(year: 2024)"), "income": _field("income(year: 2022)")}
    assert internal_key(_field("income(year: 2024)"), SelectionBuilder(), client) == "y2024"
    assert internal_key(_field("income(year: 2022)"), SelectionBuilder(), client) == "income"
    assert internal_key(_field("income(year: 2023)"), SelectionBuilder(), client).endswith(
        "_income"
    )


def test_error_paths_show_internal_keys_as_field_names() -> None:
    y2023 = internal_key(_field("income(year: 2023)"), SelectionBuilder(), {})
    assert public_path(["lotte", y2023]) == ["lotte", "income"]
    assert public_path(["a", 0, "_rz_id", "b"]) == ["a", 0, "id", "b"]
    assert public_path(["_rz_my_field_name"]) == ["my_field_name"]
    assert public_path(["rz_x", "_rzz"]) == ["rz_x", "_rzz"]


def test_a_key_the_client_uses_for_another_field_is_not_taken() -> None:
    client = {"id": _field("id: name")}
    assert internal_key(_field("id"), SelectionBuilder(), client) == "_rzx_id"


def test_a_key_already_selected_with_other_arguments_is_not_taken() -> None:
    sel = SelectionBuilder()
    sel.field("income", "income", _field("income(year: 2022)").arguments)
    assert internal_key(_field("income"), sel, {}) == "_rz_income"


def test_selecting_one_key_with_two_argument_sets_is_a_planning_error() -> None:
    sel = SelectionBuilder()
    sel.field("income", "income", _field("income(year: 2022)").arguments)
    sel.field("income", "income", _field("income(year:2022)").arguments)  # the same: fine
    with pytest.raises(PlanningError):
        sel.field("income", "income", _field("income(year: 2024)").arguments)


# -- representations -------------------------------------------------------------------------


def test_representations_merge_nested_requirements() -> None:
    existing = {
        "id": RepField("id", "id"),
        "address": RepField("address", "address", {"Address": (RepField("street", "street"),)}),
    }
    new = (
        RepField("id", "id"),
        RepField("address", "address", {"Address": (RepField("postalCode", "postalCode"),)}),
    )
    assert reps_fit(existing, new)
    merge_reps(existing, new)
    assert existing["address"].sub is not None
    assert [r.name for r in existing["address"].sub["Address"]] == ["street", "postalCode"]


def test_a_null_key_part_gives_no_representation_a_null_required_value_does() -> None:
    # key `id org { id }` and a requirement of `org { name }` and `budget`
    reps = identifying(
        (
            RepField("id", "id"),
            RepField("org", "org", {"Org": (RepField("id", "id"), RepField("name", "name"))}),
            RepField("budget", "budget"),
        ),
        _selection("id org { id }"),
    )
    assert [r.identifies for r in reps] == [True, True, False]
    org = reps[1].sub
    assert org is not None
    assert [r.identifies for r in org["Org"]] == [True, False]

    def rep(obj: dict[str, object]) -> dict[str, object] | None:
        return representation(obj, "Team", reps)

    whole = {"id": "t1", "org": {"id": "o1", "name": None}, "budget": None}
    assert rep(whole) == {"__typename": "Team", **whole}
    assert rep({**whole, "id": None}) is None
    assert rep({**whole, "org": None}) is None
    assert rep({**whole, "org": {"id": None, "name": "Acme"}}) is None


def test_an_object_typed_as_an_interface_object_fills_a_requirement_alike_for_all_types() -> None:
    # `related { id price }` on an interface implemented by Book and Film, whose value a
    # subgraph that knows the interface only as an @interfaceObject answers as "Item"
    same = (RepField("id", "id"), RepField("price", "price"))
    reps = (RepField("id", "id"), RepField("related", "related", {"Book": same, "Film": same}))
    obj = {"id": "b1", "related": {"__typename": "Item", "id": "f1", "price": 15}}
    assert representation(obj, "Item", reps) == {
        "__typename": "Item",
        "id": "b1",
        "related": {"id": "f1", "price": 15},
    }
    # fields that differ per type cannot be chosen without the real type
    differ = {"Book": same, "Film": (RepField("id", "id"),)}
    reps = (RepField("id", "id"), RepField("related", "related", differ))
    assert representation(obj, "Item", reps) is None


def test_one_representation_cannot_carry_two_values_of_a_field() -> None:
    existing = {"income": RepField("income", "_rz_income_aaaaaaaa")}
    assert not reps_fit(existing, (RepField("income", "_rz_income_bbbbbbbb"),))
    nested = {"a": RepField("a", "a", {"A": (RepField("b", "x"),)})}
    assert not reps_fit(nested, (RepField("a", "a", {"A": (RepField("b", "y"),)}),))


def test_requirements_conflict_on_arguments_at_any_depth() -> None:
    a = _selection("income(year: 2024) address { street }")
    assert requirements_conflict([a], _selection("income(year: 2023)"))
    assert not requirements_conflict([a], _selection("income(year: 2024) name"))
    assert not requirements_conflict([a], _selection("address { postalCode }"))
    assert requirements_conflict(
        [_selection("owner { income(year: 1) }")], _selection("owner { income(year: 2) }")
    )


# -- joining entity fetches --------------------------------------------------------------------


def test_an_entity_fetch_is_joined_when_representations_fit() -> None:
    fetches = Fetches()
    root = fetches.new("A", "query", ())
    first = fetches.entity("B", (), root, "T", (RepField("id", "id"),), {root.id})
    again = fetches.entity(
        "B", (), root, "T", (RepField("id", "id"), RepField("x", "x")), {root.id}
    )
    assert again is first
    assert first.representations is not None
    assert list(first.representations["T"]) == ["id", "x"]


def test_an_entity_fetch_is_not_joined_when_a_field_needs_two_values() -> None:
    fetches = Fetches()
    root = fetches.new("A", "query", ())
    first = fetches.entity("B", (), root, "T", (RepField("income", "_rz_1"),), {root.id})
    second = fetches.entity("B", (), root, "T", (RepField("income", "_rz_2"),), {root.id})
    assert second is not first


def test_an_entity_fetch_is_not_joined_when_it_would_wait_for_itself() -> None:
    fetches = Fetches()
    root = fetches.new("A", "query", ())
    finance = fetches.entity("F", (), root, "T", (RepField("id", "id"),), {root.id})
    housing = fetches.entity("H", (), root, "T", (RepField("id", "id"),), {root.id, finance.id})
    again = fetches.entity("F", (), root, "T", (RepField("id", "id"),), {root.id, housing.id})
    assert again is not finance
    assert housing.id in again.depends_on and finance.id in housing.depends_on


# -- plans over the `requires` fixture set ---------------------------------------------------


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    sources = [
        SubgraphSource(p.stem, f"http://127.0.0.1/{p.stem}/graphql", p.read_text())
        for p in sorted(FIXTURE.glob("*.graphql"))
    ]
    return load_supergraph(compose(sources))


def _plan(sg: Supergraph, query: str) -> QueryPlan:
    document = parse(query)
    assert not validate(sg.api_schema, document)
    op = normalize(sg.api_schema, document, select_operation(document, None), {})
    return Planner(sg).plan(op)


def _acyclic(plan: QueryPlan) -> bool:
    done: set[int] = set()
    pending = {f.id: set(f.depends_on) for f in plan.fetches}
    while pending:
        ready = [i for i, deps in pending.items() if deps <= done]
        if not ready:
            return False
        for i in ready:
            done.add(i)
            del pending[i]
    return True


def test_conflicting_requirement_arguments_give_each_its_own_value(supergraph: Supergraph) -> None:
    plan = _plan(supergraph, "{ citizens { taxCredit2024 taxCredit2023 } }")
    finance = [f for f in plan.fetches if f.service == "finance"]
    assert len(finance) == 2
    keys = set()
    for fetch in finance:
        assert fetch.representations is not None
        (income,) = [r for r in fetch.representations["Citizen"] if r.name == "income"]
        keys.add(income.key)
    assert len(keys) == 2
    root = plan.fetches[0]
    assert "income(year: 2024)" in root.document and "income(year: 2023)" in root.document


def test_a_requires_chain_that_returns_to_a_subgraph_plans_no_cycle(
    supergraph: Supergraph,
) -> None:
    plan = _plan(supergraph, "{ citizens { name heatingAllowance } }")
    assert _acyclic(plan)
    services = [f.service for f in plan.fetches]
    assert services.count("finance") == 2 and services.count("housing") == 1


def test_requirements_pulled_in_as_a_dependency_keep_their_nested_fields(
    supergraph: Supergraph,
) -> None:
    plan = _plan(supergraph, "{ citizens { wasteCalendar renovationPriority } }")
    (housing,) = [f for f in plan.fetches if f.service == "housing"]
    assert housing.representations is not None
    (address,) = [r for r in housing.representations["Citizen"] if r.name == "address"]
    assert address.sub is not None
    assert {r.name for r in next(iter(address.sub.values()))} == {"street", "city", "postalCode"}


def test_a_field_of_ours_under_a_client_key_of_another_field_has_no_error_path() -> None:
    client = {"buyer": _field("buyer: id")}
    key = internal_key(_field("buyer"), SelectionBuilder(), client)
    assert key not in client
    assert public_path(["orders", 0, key, "country"]) is None
    assert internal_key(_field("buyer"), SelectionBuilder(), {}) == "buyer"


def test_the_clients_alias_of_the_same_field_is_shared_without_arguments_too() -> None:
    client = {"weight": _field("weight: price"), "w2": _field("w2: weight")}
    assert internal_key(_field("weight"), SelectionBuilder(), client) == "w2"


def test_client_keys_the_gateway_uses_are_kept_apart_and_given_back() -> None:
    for key, name in (("__typename", "id"), ("_rz_buyer", "id"), ("_rzx_id", "_rzx_id")):
        stored = stored_key(key, name)
        assert stored != key and client_key(stored) == key
        assert public_path(["a", stored]) == ["a", key]
        assert public_path(["a", f"_rz0123abcd_{stored}"]) == ["a", key]  # a conflict's alias
    for key, name in (("__typename", "__typename"), ("t", "__typename"), ("__s", "__schema")):
        assert stored_key(key, name) == key == client_key(key)
