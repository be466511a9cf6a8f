"""Whose personal data an answer holds: the walk over the merged data, per data subject, with
the subjects that planning selected (`_rzsubject`), never the arguments."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from graphql import parse

from gateway.audit.reads import AuditPlan, AuditPlanner, SubjectRead, drop_subject_errors
from gateway.errors import UNAUTHORIZED
from gateway.operation import NOperation, normalize, select_operation
from gateway.ownership.guard import SUBJECT_KEY
from gateway.schema.supergraph import Supergraph, load_supergraph
from tests.audit.entries import ANN, BRAM
from tests.e2e.stack import SUPERGRAPH


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    return load_supergraph(SUPERGRAPH.read_text(encoding="utf-8"))


def operation(supergraph: Supergraph, query: str) -> NOperation:
    document = parse(query)
    return normalize(supergraph.api_schema, document, select_operation(document, None), {})


def plan(supergraph: Supergraph, query: str) -> AuditPlan:
    planner = AuditPlanner(supergraph.personal_fields, supergraph.data_subjects)
    found = planner.plan(operation(supergraph, query))
    assert found is not None
    return found


def error(path: list[Any], code: str = UNAUTHORIZED) -> dict[str, Any]:
    return {"message": "x", "path": path, "extensions": {"code": code}}


def by_subject(reads: list[SubjectRead]) -> dict[str | None, SubjectRead]:
    return {r.subject: r for r in reads}


def test_an_operation_without_personal_fields_has_no_plan(supergraph: Supergraph) -> None:
    planner = AuditPlanner(supergraph.personal_fields, supergraph.data_subjects)
    assert planner.plan(operation(supergraph, "{ municipalities { name } }")) is None
    op = operation(supergraph, "{ me { tickets { reference } } }")
    assert planner.plan(op) is planner.plan(op)  # remembered per operation
    gone = weakref.ref(op)
    del op
    gc.collect()
    assert gone() is None  # for as long as it lives, not longer


def test_planning_selects_each_anchors_subject(supergraph: Supergraph) -> None:
    query = "{ me { tickets { description } } }"
    audit = plan(supergraph, query)
    planned = audit.subject_fields(operation(supergraph, query), supergraph.api_schema)
    me = planned.root.by_type["Query"]["me"]
    assert me.selection is not None
    assert me.selection.by_type["Citizen"][SUBJECT_KEY].name == "insz"
    tickets = me.selection.by_type["Citizen"]["tickets"]
    assert tickets.selection is not None
    reporter = tickets.selection.by_type["Ticket"][SUBJECT_KEY]
    assert reporter.name == "reporter"  # a ticket is its reporter's data


def test_reads_per_subject_from_the_data_not_the_arguments(supergraph: Supergraph) -> None:
    query = f"""{{ me {{ n: name {{ givenName }} tickets {{ reference description }} }}
                   other: citizen(insz: "{BRAM}") {{ name {{ givenName }} }} }}"""
    audit = plan(supergraph, query)
    data = {
        "me": {
            SUBJECT_KEY: ANN,
            "n": {"givenName": "Ann"},
            "tickets": [
                {SUBJECT_KEY: {"insz": ANN}, "reference": "MLD-1", "description": "tegel"},
                # a ticket another subgraph said was hers, whose reporter is someone else
                {SUBJECT_KEY: {"insz": BRAM}, "reference": "MLD-2", "description": None},
                {SUBJECT_KEY: None, "reference": "MLD-3", "description": None},
            ],
        },
        # asked for Bram, the subgraph answered with Ann: Ann's data was read
        "other": {SUBJECT_KEY: ANN, "name": {"givenName": "Ann"}},
    }
    errors = [
        error(["me", "tickets", 1, "description"]),
        error(["me", "tickets", 2, "description"], "FORBIDDEN"),
    ]
    reads = by_subject(audit.reads(data, errors))
    assert set(reads) == {ANN, BRAM, None}
    ann = reads[ANN]
    assert ann.read == ("Citizen.name", "Citizen.tickets", "Ticket.description")
    assert ann.refused == () and ann.outcome == "answered"
    assert ann.categories == ("identity", "tickets")
    assert reads[BRAM].read == () and reads[BRAM].refused == ("Ticket.description",)
    assert reads[BRAM].outcome == "denied"
    assert reads[None].refused == ("Ticket.description",)  # whose is not known: still logged


def test_a_field_refused_here_and_read_there_is_refused(supergraph: Supergraph) -> None:
    query = f"""{{ a: citizen(insz: "{ANN}") {{ childBenefits {{ startDate }}
                                               name {{ givenName }} }}
                   b: citizen(insz: "{ANN}") {{ childBenefits {{ startDate }} }} }}"""
    audit = plan(supergraph, query)
    data = {
        "a": {SUBJECT_KEY: ANN, "childBenefits": [{"startDate": "2019-01-01"}], "name": None},
        "b": {SUBJECT_KEY: ANN},
    }
    (read,) = audit.reads(data, [error(["b", "childBenefits"])])
    assert read.read == ("Citizen.name",) and read.refused == ("Citizen.childBenefits",)
    assert read.outcome == "partly-denied"


def test_a_subgraph_that_failed_read_nothing(supergraph: Supergraph) -> None:
    audit = plan(supergraph, "{ me { childBenefits { startDate } tickets { reference } } }")
    data = {"me": {SUBJECT_KEY: ANN, "childBenefits": None, "tickets": []}}
    (read,) = audit.reads(data, [error(["me", "childBenefits"], "SUBREQUEST_HTTP_ERROR")])
    assert read.read == ("Citizen.tickets",) and read.refused == ()


def test_nothing_there_nothing_read(supergraph: Supergraph) -> None:
    audit = plan(supergraph, "{ me { childBenefits { startDate } } }")
    assert audit.reads({"me": None}, []) == []
    assert audit.reads({}, [error(["me"])]) == []


def test_errors_about_the_selected_subjects_are_not_the_clients() -> None:
    errors = [
        error(["ticket", SUBJECT_KEY, "insz"], "SUBREQUEST_HTTP_ERROR"),
        error(["ticket", "description"]),
        {"message": "no path"},
    ]
    drop_subject_errors(errors)
    assert [e.get("path") for e in errors] == [["ticket", "description"], None]
