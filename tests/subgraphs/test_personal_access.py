"""The subgraphs check again, with the same policy groups as the gateway: a citizen's personal
fields for that citizen, or for staff with scope and purpose; a ticket's details for its reporter
or its own municipality's case handlers. Straight to each subgraph, as if the gateway's checks
had been bypassed."""

from __future__ import annotations

from typing import Any

from resolvers.common.population import ANN_INSZ, BRAM_INSZ
from tests.gateway_issuer import GatewayIssuer
from tests.subgraphs.conftest import SUBSTANTIAL, Client

ANNS_TICKET = "{ me { tickets { id } } }"
DETAILS = "query($id: ID!) { ticket(id: $id) { status description location { street } } }"


def entities(client: Client, selection: str, insz: str, token: str) -> tuple[Any, list[Any]]:
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { "
        + selection
        + " } } }"
    )
    response = client.post(query, {"r": [{"__typename": "Citizen", "insz": insz}]}, token=token)
    payload = response.json()
    return payload["data"], payload.get("errors", [])


def codes(errors: list[dict[str, Any]]) -> set[str]:
    return {e["extensions"]["code"] for e in errors}


def test_a_citizen_asking_for_anothers_entity_is_refused(
    allowances: Client, education: Client, ticketing: Client, issuer: GatewayIssuer
) -> None:
    bram = issuer.mint(subject="s-bram", insz=BRAM_INSZ, extra_claims={"acr": "high"})
    for client, selection in (
        (allowances, "name { familyName } childBenefits { bankAccount }"),
        (education, "qualifications { totalCount }"),
        (ticketing, "tickets { reference }"),
    ):
        data, errors = entities(client, selection, ANN_INSZ, bram)
        assert codes(errors) == {"FORBIDDEN"}, client.server.name
        assert "Verstraete" not in str(data) and "BE" not in str(data)
        _, own_errors = entities(client, selection, BRAM_INSZ, bram)
        assert own_errors == [], own_errors


def test_a_civil_servant_without_a_purpose_reads_no_name(
    allowances: Client, issuer: GatewayIssuer
) -> None:
    clerk = issuer.mint(subject="c", roles=["staff"], acr="substantial", scopes=["allowances:read"])
    data, errors = entities(allowances, "name { familyName }", ANN_INSZ, clerk)
    assert data["_entities"][0]["name"] is None and codes(errors) == {"FORBIDDEN"}
    with_purpose = issuer.mint(
        subject="c", roles=["staff"], acr="substantial", purpose="child-benefit"
    )
    data, errors = entities(allowances, "name { familyName }", ANN_INSZ, with_purpose)
    assert errors == [] and data["_entities"][0]["name"] == {"familyName": "Verstraete"}


def test_a_tickets_details_are_its_reporters(ticketing: Client, issuer: GatewayIssuer) -> None:
    ann = issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims=SUBSTANTIAL)
    ticket_id = ticketing.data(ANNS_TICKET, token=ann)["me"]["tickets"][0]["id"]
    mine = ticketing.data(DETAILS, {"id": ticket_id}, token=ann)["ticket"]
    assert mine["description"] and mine["location"]["street"]
    bram = issuer.mint(subject="s-bram", insz=BRAM_INSZ, extra_claims=SUBSTANTIAL)
    gent_handler = issuer.mint(
        subject="c",
        roles=["staff"],
        scopes=["tickets:read"],
        organisation="44021",
        acr="substantial",
        purpose="ticketing",
    )
    leuven_handler = issuer.mint(
        subject="c",
        roles=["staff"],
        scopes=["tickets:read"],
        organisation="24062",
        acr="substantial",
        purpose="ticketing",
    )
    assert ticketing.data(DETAILS, {"id": ticket_id}, token=gent_handler)["ticket"] == mine
    for token in (None, bram, leuven_handler):
        data, errors = ticketing.errors(DETAILS, {"id": ticket_id}, token=token)
        # what the problem is and where it stands is public; what Ann wrote is not
        assert data["ticket"] == {"status": mine["status"], "description": None, "location": None}
        assert codes(errors) == {"FORBIDDEN"}
