"""Changing a ticket's status: only a civil servant of the ticket's municipality with scope
tickets:write; the change is recorded in the status history, and the gateway is told."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from auth.gateway_signature import SIGNATURE_HEADER
from auth.invalidation_keys import KEY_ENV, InvalidationKeys, derive_key
from resolvers.common.population import ANN_INSZ, population
from subgraphs.common.invalidation import GATEWAY_URL_ENV
from tests.gateway_issuer import GatewayIssuer
from tests.servers import start_uvicorn
from tests.subgraphs.conftest import SUBSTANTIAL, Client, clerk_token

GENT, LEUVEN = "44021", "24062"
CHANGE = """
mutation($id: ID!, $status: TicketStatus!, $note: String) {
  updateTicketStatus(id: $id, status: $status, note: $note) {
    id status updatedAt statusHistory { status note at } publicUpdates { message }
  }
}
"""
READ = "query($id: ID!) { ticket(id: $id) { status statusHistory { status } } }"
GENT_TILE = {
    "category": "LOOSE_PAVING_TILE",
    "description": "Loszittende stoeptegel aan de tramhalte, struikelgevaar.",
    "municipalityNisCode": GENT,
    "location": {
        "street": "Korenmarkt",
        "houseNumber": "1",
        "postalCode": "9000",
        "latitude": 51.0545,
        "longitude": 3.7209,
    },
}
REPORT = "mutation($input: ReportTicketInput!) { reportTicket(input: $input) { id } }"


def staff(
    issuer: GatewayIssuer,
    org: str | None = GENT,
    scopes: tuple[str, ...] = ("tickets:write", "tickets:read"),
) -> str:
    """A case handler of `org`: changes tickets, and reads their details to handle them."""
    return issuer.mint(
        subject=f"civil-servant-{org}",
        roles=["staff"],
        scopes=scopes,
        organisation=org,
        acr="substantial",
        extra_claims={"purpose": "ticketing"},
    )


@pytest.fixture(scope="module")
def reporter(issuer: GatewayIssuer) -> tuple[str, str]:
    citizen = population()[432]
    return citizen.insz, issuer.mint(subject="s-432", insz=citizen.insz, extra_claims=SUBSTANTIAL)


def new_gent_ticket(ticketing: Client, reporter: tuple[str, str]) -> str:
    """A fresh NEW ticket in Gent: the seeded ones stay as other tests expect them."""
    ticket_id: str = ticketing.data(REPORT, {"input": GENT_TILE}, token=reporter[1])[
        "reportTicket"
    ]["id"]
    return ticket_id


def status_of(ticketing: Client, ticket_id: str) -> list[str]:
    ticket = ticketing.data(READ, {"id": ticket_id})["ticket"]
    return [h["status"] for h in ticket["statusHistory"]]


def refused(ticketing: Client, token: str | None, **variables: Any) -> dict[str, Any]:
    data, errors = ticketing.errors(CHANGE, variables, token=token)
    assert data is None
    (error,) = errors
    assert error["path"] == ["updateTicketStatus"]
    return error


def test_gent_staff_move_a_gent_ticket_along(
    ticketing: Client, issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticket_id = new_gent_ticket(ticketing, reporter)
    gent = staff(issuer)
    response = ticketing.post(CHANGE, {"id": ticket_id, "status": "ACKNOWLEDGED"}, token=gent)
    assert response.headers["cache-control"] == "no-store"
    changed = response.json()["data"]["updateTicketStatus"]
    assert changed["status"] == "ACKNOWLEDGED"
    history = changed["statusHistory"]
    assert [h["status"] for h in history] == ["NEW", "ACKNOWLEDGED"]
    assert history[-1]["note"] == "Melding bekeken en toegewezen aan de bevoegde dienst."
    assert history[-1]["at"] == changed["updatedAt"]
    assert changed["publicUpdates"] == [
        {"message": "Bedankt voor uw melding. Onze dienst bekijkt het probleem."}
    ]
    note = "Ploeg van de wegendienst komt donderdag."
    two = """mutation($id: ID!, $note: String) {
        a: updateTicketStatus(id: $id, status: SCHEDULED, note: $note) { status }
        b: updateTicketStatus(id: $id, status: IN_PROGRESS) { status statusHistory { note } }
    }"""
    both = ticketing.data(two, {"id": ticket_id, "note": f"  {note} "}, token=gent)
    assert both["a"] == {"status": "SCHEDULED"}
    assert both["b"]["status"] == "IN_PROGRESS"
    assert both["b"]["statusHistory"][-2]["note"] == note  # trimmed
    assert status_of(ticketing, ticket_id) == ["NEW", "ACKNOWLEDGED", "SCHEDULED", "IN_PROGRESS"]
    # the reporter sees it too
    mine = ticketing.data("{ me { tickets { id status } } }", token=reporter[1])["me"]["tickets"]
    assert {"id": ticket_id, "status": "IN_PROGRESS"} in mine


def test_leuven_staff_may_not_change_a_gent_ticket(
    ticketing: Client, issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticket_id = new_gent_ticket(ticketing, reporter)
    error = refused(ticketing, staff(issuer, LEUVEN), id=ticket_id, status="ACKNOWLEDGED")
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert LEUVEN in error["message"]
    no_org = refused(ticketing, staff(issuer, None), id=ticket_id, status="ACKNOWLEDGED")
    assert no_org["extensions"]["code"] == "FORBIDDEN"
    assert status_of(ticketing, ticket_id) == ["NEW"]


def test_citizens_anonymous_callers_and_staff_without_the_scope_may_not(
    ticketing: Client, issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticket_id = new_gent_ticket(ticketing, reporter)
    change = {"id": ticket_id, "status": "CANCELLED"}
    # not even the reporter, nor a citizen whose token somehow carries the scope
    citizen = issuer.mint(subject="s-432", insz=reporter[0], scopes=["tickets:write"])
    assert refused(ticketing, reporter[1], **change)["extensions"]["code"] == "FORBIDDEN"
    assert refused(ticketing, citizen, **change)["extensions"]["code"] == "FORBIDDEN"
    reader = staff(issuer, scopes=("tickets:read",))
    assert refused(ticketing, reader, **change)["extensions"]["code"] == "FORBIDDEN"
    assert refused(ticketing, None, **change)["extensions"]["code"] == "UNAUTHENTICATED"
    assert status_of(ticketing, ticket_id) == ["NEW"]


def test_a_bad_status_is_bad_user_input(
    ticketing: Client, issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticket_id = new_gent_ticket(ticketing, reporter)
    gent = staff(issuer)
    # not a status at all: the variable does not coerce
    _, errors = ticketing.errors(CHANGE, {"id": ticket_id, "status": "DONE"}, token=gent)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a status the workflow does not allow next (NEW goes to ACKNOWLEDGED or CANCELLED)
    error = refused(ticketing, gent, id=ticket_id, status="RESOLVED")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "status"}
    assert "ACKNOWLEDGED, CANCELLED" in error["message"]
    error = refused(ticketing, gent, id=ticket_id, status="NEW")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    long_note = refused(ticketing, gent, id=ticket_id, status="ACKNOWLEDGED", note="x" * 1001)
    assert long_note["extensions"] == {"code": "BAD_USER_INPUT", "field": "note"}
    assert status_of(ticketing, ticket_id) == ["NEW"]
    ticketing.data(CHANGE, {"id": ticket_id, "status": "CANCELLED"}, token=gent)
    final = refused(ticketing, gent, id=ticket_id, status="REOPENED")
    assert final["extensions"]["code"] == "BAD_USER_INPUT"
    assert "final" in final["message"]


def test_an_unknown_ticket_is_not_found(ticketing: Client, issuer: GatewayIssuer) -> None:
    for unknown in ("99999999", "nope"):
        error = refused(ticketing, staff(issuer), id=unknown, status="ACKNOWLEDGED")
        assert error["extensions"]["code"] == "NOT_FOUND"


# --- telling the gateway ---------------------------------------------------------------------


class FakeGateway:
    """Records the invalidations it receives (verifying their signature with the key it derives
    for the subgraph that names itself) and answers 200."""

    def __init__(self, master: bytes) -> None:
        keys = InvalidationKeys((master,))
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verifier = keys.verifier(headers["x-rugzak-subgraph"])
                verifier.verify(headers.get(SIGNATURE_HEADER), "POST", self.path, body, headers)
                received.append(
                    {
                        "path": self.path,
                        "by": headers["x-rugzak-subgraph"],
                        "body": orjson.loads(body),
                    }
                )
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"invalidated": 1}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def told(
    tmp_path_factory: pytest.TempPathFactory, auth_env: dict[str, str], issuer: GatewayIssuer
) -> Iterator[tuple[Client, FakeGateway]]:
    master = b"k" * 32
    gateway = FakeGateway(master)
    env = {
        **auth_env,
        "RUGZAK_DATA_DIR": str(tmp_path_factory.mktemp("ticketing-told")),
        KEY_ENV: derive_key(master, "ticketing").decode(),
        GATEWAY_URL_ENV: gateway.url,
    }
    server = start_uvicorn("subgraphs.ticketing.app:app", "ticketing (told)", env)
    data_dir = Path(env["RUGZAK_DATA_DIR"])
    client = Client(server, data_dir, clerk_token(issuer, "ticketing"), anonymous=issuer.mint())
    try:
        yield client, gateway
    finally:
        client.close()
        server.stop()
        gateway.stop()


def test_a_change_tells_the_gateway_which_answers_are_stale(
    told: tuple[Client, FakeGateway], issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticketing, gateway = told
    ticket_id = new_gent_ticket(ticketing, reporter)
    # reporting changed the reporter's list of tickets and Gent's open count
    assert gateway.received[-1] == {
        "path": "/cache/invalidate",
        "by": "ticketing",
        "body": {"tags": [f"Citizen:{reporter[0]}", f"Municipality:{GENT}"]},
    }
    ticketing.data(CHANGE, {"id": ticket_id, "status": "ACKNOWLEDGED"}, token=staff(issuer))
    assert gateway.received[-1]["body"] == {
        "tags": [f"Citizen:{reporter[0]}", f"Municipality:{GENT}", f"Ticket:{ticket_id}"]
    }
    # a refused change tells nobody anything
    count = len(gateway.received)
    refused(ticketing, staff(issuer, LEUVEN), id=ticket_id, status="SCHEDULED")
    assert len(gateway.received) == count
    metrics = ticketing.http.get("/metrics").text
    assert 'rugzak_subgraph_cache_invalidations_total{outcome="sent"} 2' in metrics


def test_a_gateway_that_is_down_does_not_fail_the_change(
    told: tuple[Client, FakeGateway], issuer: GatewayIssuer, reporter: tuple[str, str]
) -> None:
    ticketing, gateway = told
    ticket_id = new_gent_ticket(ticketing, reporter)
    gateway.stop()
    changed = ticketing.data(CHANGE, {"id": ticket_id, "status": "CANCELLED"}, token=staff(issuer))
    assert changed["updateTicketStatus"]["status"] == "CANCELLED"
    assert status_of(ticketing, ticket_id) == ["NEW", "CANCELLED"]
    metrics = ticketing.http.get("/metrics").text
    assert 'rugzak_subgraph_cache_invalidations_total{outcome="failed"} 1' in metrics


def test_ann_is_untouched(ticketing: Client) -> None:
    """The seeded showcase tickets are not changed by these tests."""
    statuses = ticketing.data(
        "query($i: ID!) { citizen(insz: $i) { tickets { status } } }", {"i": ANN_INSZ}
    )
    assert statuses["citizen"]["tickets"] == [{"status": "SCHEDULED"}, {"status": "RESOLVED"}]
