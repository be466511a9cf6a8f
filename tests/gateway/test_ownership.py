"""Ownership per entity: `citizen-self` holds for the objects whose declared data subject is the
caller, wherever they appear (a root field, a reference another subgraph returned, an entity
call), never because of the way to them. Planning, screening of representations and the check
before shaping, on a hand-written supergraph with a subgraph (`parking`) that returns Citizen
references of its choosing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from auth.principal import Principal
from gateway.authorization import AuthorizationResult, Authorizer
from gateway.execution.shaping import Shaper, compile_shape
from gateway.operation import normalize, select_operation
from gateway.ownership.guard import SUBJECT_KEY, Ownership
from gateway.planning import Planner, QueryPlan
from gateway.schema.supergraph import load_supergraph

SG = load_supergraph((Path(__file__).parent / "supergraph_ownership.graphql").read_text())
ANN = "85671012385"
BRAM = "03621445638"


def citizen(insz: str) -> Principal:
    return Principal(subject=f"sub-{insz}", insz=insz, acr="high", token="t")


CLERK = Principal(
    subject="clerk",
    roles=frozenset({"staff"}),
    scopes=frozenset({"money:read", "desk:read"}),
    purpose="benefit",
    acr="high",
    token="t",
)


def authorize(query: str, principal: Principal) -> AuthorizationResult:
    document = parse(query)
    op = normalize(SG.api_schema, document, select_operation(document, None), {})
    return Authorizer(SG).authorize(op, principal)


def plan(authorized: AuthorizationResult) -> QueryPlan:
    op = authorized.operation
    if authorized.guard is not None:
        op = authorized.guard.subject_fields(op, SG.api_schema)
    return Planner(SG).plan(op, denied=authorized.denied_fields)


def shaped(
    authorized: AuthorizationResult, ownership: Ownership | None, data: dict[str, Any]
) -> tuple[Any, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    if ownership is not None:
        ownership.enforce(data, errors)
    program = compile_shape(authorized.operation, authorized.denied_fields)
    return Shaper(errors).shape(program, data), errors


HOLDER = '{ parkingHolder(plate: "1-ABC-123") { insz name benefits { amountCents bankAccount } } }'


def test_a_citizen_reading_through_any_field_is_bound_not_denied() -> None:
    authorized = authorize(HOLDER, citizen(BRAM))
    assert authorized.denied == ()
    guard = authorized.guard
    assert guard is not None
    holder = guard.root.children["Query"]["parkingHolder"]
    assert set(holder.bound["Citizen"]) == {"name", "benefits"}
    assert set(holder.children["Citizen"]["benefits"].bound["Benefit"]) == {"bankAccount"}
    assert holder.anchors["Citizen"].subject.path == ("insz",)


def test_staff_with_scope_and_purpose_read_outright() -> None:
    authorized = authorize(HOLDER, CLERK)
    assert authorized.denied == () and authorized.guard is None


def test_the_subject_is_selected_where_the_entity_is_fetched() -> None:
    fetches = plan(authorize(HOLDER, citizen(BRAM))).fetches
    root = next(f for f in fetches if f.service == "parking")
    assert f"{SUBJECT_KEY}:insz" in root.document


def test_someone_elses_representation_is_never_sent_and_their_fields_are_null() -> None:
    authorized = authorize(HOLDER, citizen(BRAM))
    assert authorized.guard is not None
    query_plan = plan(authorized)
    ownership = Ownership(authorized.guard, BRAM, query_plan)
    # the parking subgraph answered Ann's INSZ for Bram's question
    data: dict[str, Any] = {
        "parkingHolder": {"__typename": "Citizen", "insz": ANN, SUBJECT_KEY: ANN}
    }
    holder = data["parkingHolder"]
    for node in query_plan.fetches:
        if node.representations is None:
            continue
        parts = ownership.screen(node, [{"__typename": "Citizen", "insz": ANN}], [[holder]])
        assert parts == []  # every field asked of Ann's citizen is bound: nothing is sent
    result, errors = shaped(authorized, ownership, data)
    assert result == {"parkingHolder": {"insz": ANN, "name": None, "benefits": None}}
    assert sorted(tuple(e["path"]) for e in errors) == [
        ("parkingHolder", "benefits"),
        ("parkingHolder", "name"),
    ]
    assert {e["extensions"]["code"] for e in errors} == {"UNAUTHORIZED_FIELD_OR_TYPE"}


def test_the_callers_own_entity_is_answered_from_any_field() -> None:
    authorized = authorize(HOLDER, citizen(ANN))
    assert authorized.guard is not None
    query_plan = plan(authorized)
    ownership = Ownership(authorized.guard, ANN, query_plan)
    holder = {"__typename": "Citizen", "insz": ANN, SUBJECT_KEY: ANN}
    for node in query_plan.fetches:
        if node.representations is not None:
            rep = {"__typename": "Citizen", "insz": ANN}
            assert ownership.screen(node, [rep], [[holder]]) == [(node, [rep], [[holder]])]
    holder.update({"name": "Ann", "benefits": [{"amountCents": 100, "bankAccount": "BE71"}]})
    result, errors = shaped(authorized, ownership, {"parkingHolder": holder})
    assert errors == []
    assert result == {
        "parkingHolder": {
            "insz": ANN,
            "name": "Ann",
            "benefits": [{"amountCents": 100, "bankAccount": "BE71"}],
        }
    }


def test_a_subject_that_disagrees_with_the_representation_closes_the_object() -> None:
    """A subgraph answering one INSZ under the internal key and another as the key itself gets
    neither through: what was sent and what the object says must both be the caller."""
    authorized = authorize('{ parkingHolder(plate: "x") { name municipality } }', citizen(BRAM))
    assert authorized.guard is not None
    query_plan = plan(authorized)
    ownership = Ownership(authorized.guard, BRAM, query_plan)
    holder = {"__typename": "Citizen", "insz": ANN, SUBJECT_KEY: BRAM}
    (people,) = [f for f in query_plan.fetches if f.service == "people"]
    rep = {"__typename": "Citizen", "insz": ANN}
    # name and municipality come in one fetch: Ann's representation goes out for the open
    # municipality alone, and her object is marked as not Bram's
    [(sent, sent_reps, sent_targets)] = ownership.screen(people, [rep], [[holder]])
    assert sent_reps == [rep] and sent_targets == [[holder]]
    assert "municipality" in sent.selection and "name" not in sent.selection
    assert sent.document.startswith("query($representations:[_Any!]!){_entities(")
    parse(sent.document)  # a document of its own, not a cut-down string
    assert sent.field_keys == (("municipality",),)
    holder.update({"name": "Ann", "municipality": "Gent"})
    result, errors = shaped(authorized, ownership, {"parkingHolder": holder})
    assert result == {"parkingHolder": {"name": None, "municipality": "Gent"}}
    assert [e["path"] for e in errors] == [["parkingHolder", "name"]]


def test_values_reached_through_a_citizen_are_bound_to_that_citizen() -> None:
    query = "{ permits { plate note holder { name } } }"
    authorized = authorize(query, citizen(BRAM))
    # Permit declares no data subject: `note` (citizen-self) has nobody to be about: closed
    assert authorized.denied == ("/Query.permits/Permit.note",)
    assert authorized.guard is not None
    ownership = Ownership(authorized.guard, BRAM, plan(authorized))
    data = {
        "permits": [
            {"plate": "a", "holder": {"__typename": "Citizen", SUBJECT_KEY: BRAM, "name": "B"}},
            {"plate": "b", "holder": {"__typename": "Citizen", SUBJECT_KEY: ANN, "name": "A"}},
        ]
    }
    result, errors = shaped(authorized, ownership, data)
    assert result == {
        "permits": [
            {"plate": "a", "note": None, "holder": {"name": "B"}},
            {"plate": "b", "note": None, "holder": {"name": None}},
        ]
    }
    assert sorted(tuple(e["path"]) for e in errors) == [
        ("permits", 0, "note"),
        ("permits", 1, "holder", "name"),
        ("permits", 1, "note"),
    ]


def test_a_ticket_is_its_reporters_data() -> None:
    authorized = authorize('{ ticket(id: "7") { status description } }', citizen(ANN))
    assert authorized.guard is not None
    query_plan = plan(authorized)
    (desk,) = query_plan.fetches
    assert f"{SUBJECT_KEY}:reporter{{insz}}" in desk.document
    ownership = Ownership(authorized.guard, ANN, query_plan)
    own = {
        "__typename": "Ticket",
        "status": "NEW",
        "description": "tile",
        SUBJECT_KEY: {"insz": ANN},
    }
    assert shaped(authorized, ownership, {"ticket": own}) == (
        {"ticket": {"status": "NEW", "description": "tile"}},
        [],
    )
    other = {"__typename": "Ticket", "status": "NEW", "description": "x", SUBJECT_KEY: None}
    ownership = Ownership(authorized.guard, ANN, query_plan)
    result, errors = shaped(authorized, ownership, {"ticket": other})
    assert result == {"ticket": {"status": "NEW", "description": None}}
    assert [e["path"] for e in errors] == [["ticket", "description"]]


@pytest.mark.parametrize("caller", [None, ""])
def test_without_a_caller_insz_nothing_bound_opens(caller: str | None) -> None:
    authorized = authorize(HOLDER, citizen(BRAM))
    assert authorized.guard is not None
    ownership = Ownership(authorized.guard, caller, plan(authorized))
    holder = {"__typename": "Citizen", "insz": "", SUBJECT_KEY: caller, "name": "x"}
    result, _ = shaped(authorized, ownership, {"parkingHolder": holder})
    assert result == {"parkingHolder": {"insz": "", "name": None, "benefits": None}}


def test_the_root_field_rule_still_reads_the_insz_argument() -> None:
    assert authorize(f'{{ citizen(insz: "{BRAM}") {{ name }} }}', citizen(ANN)).denied == (
        "/Query.citizen",
    )
    own = authorize(f'{{ citizen(insz: "{ANN}") {{ name }} }}', citizen(ANN))
    assert own.denied == () and own.guard is not None  # and name is still checked per object
