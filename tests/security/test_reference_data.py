"""Issue 13, finding 8: reference data exposure. Anonymous callers dumped every citizen's ticket
(description, street and house number, the municipality's notes) with aliases of `ticket(id:)`,
and a staff token without scope or purpose read any citizen's name. Over the real stack."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.stack import ANN, BRAM
from tests.security.conftest import HostileWorld

DETAILS = (
    "description location { street houseNumber } statusHistory { note } publicUpdates { message }"
)
UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"


def post(world: HostileWorld, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        world.stack.graphql_url, json={"query": query}, headers=headers, timeout=60.0
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def many_tickets(count: int) -> str:
    return (
        "{ "
        + " ".join(
            f't{i}: ticket(id: "{i}") {{ reference status {DETAILS} }}' for i in range(1, count + 1)
        )
        + " }"
    )


def test_anonymous_callers_read_what_is_public_of_a_ticket_and_nothing_personal(
    hostile: HostileWorld,
) -> None:
    body = post(hostile, many_tickets(20))  # as many root fields as the default limits allow
    tickets = [t for t in body["data"].values() if t is not None]
    assert len(tickets) >= 15  # the tickets exist: their public part is answered
    for ticket in tickets:
        assert ticket["reference"].startswith("MLD-") and ticket["status"]
        for field in ("description", "location", "statusHistory", "publicUpdates"):
            assert ticket[field] is None
    denied = {e["path"][1] for e in body["errors"] if e["extensions"]["code"] == UNAUTHORIZED}
    assert denied == {"description", "location", "statusHistory", "publicUpdates"}


def test_another_citizen_reads_nothing_personal_of_a_ticket_but_the_reporter_does(
    hostile: HostileWorld,
) -> None:
    ann = hostile.stack.token(ANN)
    mine = post(hostile, "{ me { tickets { id description } } }", ann)["data"]["me"]["tickets"]
    ticket_id, description = mine[0]["id"], mine[0]["description"]
    query = f'{{ ticket(id: "{ticket_id}") {{ status {DETAILS} }} }}'
    own = post(hostile, query, ann)
    assert "errors" not in own, own
    assert own["data"]["ticket"]["description"] == description
    bram = post(hostile, query, hostile.stack.token(BRAM))
    assert description not in str(bram)
    assert bram["data"]["ticket"]["description"] is None


def test_a_civil_servant_without_a_purpose_reads_no_citizens_name(hostile: HostileWorld) -> None:
    issuer = hostile.stack.issuer
    no_purpose = issuer.mint(
        subject="clerk", roles=["staff"], organisation="44021", acr="substantial",
        scopes=["allowances:read", "education:read", "tickets:read"],
    )  # fmt: skip
    names = " ".join(
        f'c{i}: citizen(insz: "{insz}") {{ name {{ familyName }} }}'
        for i, insz in enumerate((ANN, BRAM))
    )
    body = post(hostile, "{ " + names + " }", no_purpose)
    assert "Verstraete" not in str(body) and "Peeters" not in str(body)
    assert {tuple(e["path"]) for e in body["errors"]} == {("c0", "name"), ("c1", "name")}
    with_purpose = issuer.mint(
        subject="clerk", roles=["staff"], organisation="44021", acr="substantial",
        purpose="child-benefit",
    )  # fmt: skip
    assert "Verstraete" in str(post(hostile, "{ " + names + " }", with_purpose))
