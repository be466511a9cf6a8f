"""Reporting a loose paving tile through the gateway, then following it."""

from __future__ import annotations

from tests.e2e.stack import BRAM, Stack

REPORT = """
mutation Report($input: ReportTicketInput!) {
  reportTicket(input: $input) {
    id
    reference
    status
    isOpen
    municipality { nisCode name }
    statusHistory { status }
  }
}
"""

GENT_TILE = {
    "category": "LOOSE_PAVING_TILE",
    "description": "Loszittende stoeptegel aan de tramhalte, struikelgevaar.",
    "municipalityNisCode": "44021",
    "location": {
        "street": "Korenmarkt",
        "houseNumber": "1",
        "postalCode": "9000",
        "latitude": 51.0545,
        "longitude": 3.7209,
    },
}


def test_report_then_read_it_back_with_data_from_other_subgraphs(stack: Stack) -> None:
    before = stack.query("{ me { tickets { id } } }", insz=BRAM).json()["data"]["me"]["tickets"]
    body = stack.query(REPORT, {"input": GENT_TILE}, insz=BRAM).json()
    assert "errors" not in body, body
    ticket = body["data"]["reportTicket"]
    assert ticket["status"] == "NEW" and ticket["isOpen"] is True
    assert ticket["municipality"] == {"nisCode": "44021", "name": "Gent"}
    assert [h["status"] for h in ticket["statusHistory"]] == ["NEW"]

    read = stack.query(
        "query($id: ID!) { ticket(id: $id) { reference status } me { tickets { id } } }",
        {"id": ticket["id"]},
        insz=BRAM,
    ).json()
    assert read["data"]["ticket"] == {"reference": ticket["reference"], "status": "NEW"}
    ids = [t["id"] for t in read["data"]["me"]["tickets"]]
    assert ticket["id"] in ids and len(ids) == len(before) + 1


def test_invalid_reports_are_refused_with_bad_user_input(stack: Stack) -> None:
    bad = {**GENT_TILE, "description": "kort", "municipalityNisCode": "99999"}
    body = stack.query(REPORT, {"input": bad}, insz=BRAM).json()
    assert body["data"] is None
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"BAD_USER_INPUT"}
    assert all(e["path"] == ["reportTicket"] for e in body["errors"])


def test_reporting_needs_a_citizen(stack: Stack) -> None:
    # reportTicket is @authenticated: the gateway refuses it before ticketing is called
    body = stack.query(REPORT, {"input": GENT_TILE}).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert error["path"] == ["reportTicket"]


def test_mutations_run_in_order(stack: Stack) -> None:
    two = """
    mutation($input: ReportTicketInput!) {
      first: reportTicket(input: $input) { reference }
      second: reportTicket(input: $input) { reference }
    }
    """
    body = stack.query(two, {"input": GENT_TILE}, insz=BRAM).json()
    first, second = body["data"]["first"]["reference"], body["data"]["second"]["reference"]
    assert first < second  # references are issued in sequence
