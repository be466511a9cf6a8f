"""Ticketing: reading reports and municipalities; reporting a ticket as the verified caller."""

from __future__ import annotations

import re
from typing import Any

import pytest

from resolvers.common.population import ANN_INSZ, BRAM_INSZ, population
from tests.gateway_issuer import GatewayIssuer
from tests.subgraphs.conftest import SUBSTANTIAL, Client, store_queries

TICKET_FIELDS = """
id reference category description status isOpen createdAt updatedAt
location { street houseNumber postalCode latitude longitude }
municipality { nisCode name province openTicketCount }
statusHistory { status at note }
publicUpdates { at message }
"""
REPORT = (
    "mutation($input: ReportTicketInput!) { reportTicket(input: $input) { " + TICKET_FIELDS + " } }"
)


def valid_input(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "category": "LOOSE_PAVING_TILE",
        "description": "Losliggende tegel aan de bushalte, al twee mensen gestruikeld.",
        "municipalityNisCode": "24062",
        "location": {
            "street": "Bondgenotenlaan",
            "houseNumber": "88",
            "postalCode": "3000",
            "latitude": 50.8790,
            "longitude": 4.7050,
        },
    }
    location = changes.pop("location", {})
    report.update(changes)
    report["location"] = {**report["location"], **location}
    return report


@pytest.fixture(scope="module")
def ann_token(issuer: GatewayIssuer) -> str:
    return issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims=SUBSTANTIAL)


def test_anns_tickets(ticketing: Client, ann_token: str) -> None:
    query = "{ me { tickets { " + TICKET_FIELDS + " } } }"
    tickets = ticketing.data(query, token=ann_token)["me"]["tickets"]
    tile, light = tickets  # newest first
    assert tile["status"] == "SCHEDULED" and tile["isOpen"] is True
    assert light["status"] == "RESOLVED" and light["isOpen"] is False
    for ticket in (tile, light):
        assert ticket["municipality"]["name"] == "Gent"
        assert ticket["municipality"]["province"] == "OOST_VLAANDEREN"
        assert ticket["statusHistory"][0]["status"] == "NEW"
        assert ticket["statusHistory"][-1]["status"] == ticket["status"]
        assert ticket["publicUpdates"]
        assert re.fullmatch(r"MLD-\d{4}-\d{6}", ticket["reference"])
    assert [h["status"] for h in light["statusHistory"]] == [
        "NEW", "ACKNOWLEDGED", "ON_HOLD", "SCHEDULED", "IN_PROGRESS", "RESOLVED",
    ]  # fmt: skip
    assert tile["location"]["street"] == "Sint-Pietersnieuwstraat"


def test_tickets_filtered_by_status(ticketing: Client) -> None:
    query = """
        query($i: ID!, $s: [TicketStatus!]) { citizen(insz: $i) { tickets(status: $s) { status } } }
    """
    bram = ticketing.data(query, {"i": BRAM_INSZ, "s": None})["citizen"]["tickets"]
    assert bram == [{"status": "ACKNOWLEDGED"}]
    resolved = ticketing.data(query, {"i": ANN_INSZ, "s": ["RESOLVED", "CLOSED"]})
    assert resolved["citizen"]["tickets"] == [{"status": "RESOLVED"}]


def test_ticket_and_municipality_lookups(ticketing: Client) -> None:
    assert ticketing.data('{ ticket(id: "1") { id } }') == {"ticket": {"id": "1"}}
    assert ticketing.data('{ ticket(id: "nope") { id } }') == {"ticket": None}
    assert ticketing.data('{ ticket(id: "99999999") { id } }') == {"ticket": None}
    gent = ticketing.data('{ municipality(nisCode: "44021") { name province postalCode } }')
    assert gent == {
        "municipality": {"name": "Gent", "province": "OOST_VLAANDEREN", "postalCode": "9000"}
    }
    assert ticketing.data('{ municipality(nisCode: "21004") { name } }') == {"municipality": None}
    names = {
        m["nisCode"]: m["name"]
        for m in ticketing.data("{ municipalities { nisCode name } }")["municipalities"]
    }
    assert {
        "44021": "Gent",
        "11002": "Antwerpen",
        "24062": "Leuven",
        "31005": "Brugge",
    }.items() <= names.items()
    assert len(names) >= 30


def test_reporting_needs_a_signed_in_citizen(ticketing: Client, issuer: GatewayIssuer) -> None:
    data, errors = ticketing.errors(REPORT, {"input": valid_input()}, token=None)
    assert data is None
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert errors[0]["path"] == ["reportTicket"]
    civil_servant = issuer.mint(subject="civil-servant-7", scopes=["tickets:write"])
    _, errors = ticketing.errors(REPORT, {"input": valid_input()}, token=civil_servant)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "Kapot"}, "input.description"),
        ({"description": "x" * 2001}, "input.description"),
        ({"description": "          tegel     "}, "input.description"),  # 5 characters once trimmed
        ({"municipalityNisCode": "99999"}, "input.municipalityNisCode"),
        ({"municipalityNisCode": "21004"}, "input.municipalityNisCode"),  # Brussel is not Flemish
        ({"location": {"latitude": 48.8566, "longitude": 2.3522}}, "input.location.latitude"),
        ({"location": {"latitude": 50.88, "longitude": 7.1}}, "input.location.longitude"),
        ({"location": {"postalCode": "30"}}, "input.location.postalCode"),
        ({"location": {"street": "  "}}, "input.location.street"),
    ],
)
def test_invalid_reports_are_bad_user_input(
    ticketing: Client, ann_token: str, changes: dict[str, Any], field: str
) -> None:
    data, errors = ticketing.errors(REPORT, {"input": valid_input(**changes)}, token=ann_token)
    assert data is None
    extensions = errors[0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["field"] == field
    assert [p["field"] for p in extensions["problems"]] == [field]


def test_an_unknown_category_is_bad_user_input(ticketing: Client, ann_token: str) -> None:
    _, errors = ticketing.errors(REPORT, {"input": valid_input(category="UFO")}, token=ann_token)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "UFO" in errors[0]["message"]


def test_every_problem_is_listed_at_once(ticketing: Client, ann_token: str) -> None:
    bad = valid_input(description="kort", municipalityNisCode="1", location={"latitude": 0.0})
    _, errors = ticketing.errors(REPORT, {"input": bad}, token=ann_token)
    fields = [p["field"] for p in errors[0]["extensions"]["problems"]]
    assert fields == ["input.description", "input.municipalityNisCode", "input.location.latitude"]


def test_a_report_is_stored_and_can_be_read_back(ticketing: Client, issuer: GatewayIssuer) -> None:
    reporter = population()[321]
    token = issuer.mint(subject="s-321", insz=reporter.insz, extra_claims=SUBSTANTIAL)
    count = '{ municipality(nisCode: "24062") { openTicketCount } }'
    open_before = ticketing.data(count)["municipality"]["openTicketCount"]
    response = ticketing.post(REPORT, {"input": valid_input()}, token=token)
    assert response.status_code == 200
    payload = response.json()
    assert "errors" not in payload, payload
    ticket = payload["data"]["reportTicket"]
    # validate (1), next id, two inserts, then one read per kind of field (5)
    assert store_queries(response) == 9
    assert ticket["status"] == "NEW" and ticket["isOpen"] is True
    assert [h["status"] for h in ticket["statusHistory"]] == ["NEW"]
    assert ticket["publicUpdates"] == []
    assert ticket["createdAt"] == ticket["updatedAt"] == ticket["statusHistory"][0]["at"]
    assert re.fullmatch(r"MLD-\d{4}-\d{6}", ticket["reference"])
    assert ticket["municipality"]["name"] == "Leuven"
    assert ticket["location"] == valid_input()["location"]

    # a later request reads it back, by id and as the reporter's ticket
    by_id = "query($id: ID!) { ticket(id: $id) { " + TICKET_FIELDS + " } }"
    again = ticketing.data(by_id, {"id": ticket["id"]}, token=token)
    assert again["ticket"] == ticket
    # a Leuven ticket: Gent's case handlers (the default caller) see what is public only
    data, errors = ticketing.errors(by_id, {"id": ticket["id"]})
    assert data["ticket"]["description"] is None and data["ticket"]["status"] == "NEW"
    assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
    mine = ticketing.data("{ me { tickets { id } } }", token=token)["me"]["tickets"]
    assert mine[0] == {"id": ticket["id"]}
    assert ticketing.data(count)["municipality"]["openTicketCount"] == open_before + 1
