"""Who opened my backpack: every read of a citizen's personal data is logged by the gateway and
shown to that citizen (the transparency subgraph), and nothing personal leaks into telemetry.

Real servers: the reference subgraphs (transparency included) and a gateway of our own whose
whole output (stdout and stderr) is kept and searched afterwards for INSZs, tokens and variable
values."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, BRAM, PROFILE_QUERY, SUPERGRAPH, Stack, reference_stack
from tests.servers import Server, start_python_server

LOG = """query Log($first: Int!, $after: String) { me { accessLog(first: $first, after: $after) {
  at organisation { nisCode name } role ownData purpose application categories fields
  refusedFields outcome cursor } } }"""
CHILD_BENEFIT = (
    "query($insz: ID!) { citizen(insz: $insz) { childBenefits { startDate payingBody } } }"
)
SECRET_DESCRIPTION = "Losse tegel voor nummer 12, SECRET-VALUE-7731 bij de bakker"
REPORT = """mutation($input: ReportTicketInput!) { reportTicket(input: $input) {
  id description statusHistory { status } } }"""
TILE = {
    "category": "LOOSE_PAVING_TILE",
    "description": SECRET_DESCRIPTION,
    "municipalityNisCode": "44021",
    "location": {"street": "Korenmarkt", "postalCode": "9000", "latitude": 51.0545,
                 "longitude": 3.7215},
}  # fmt: skip


class World:
    def __init__(self, stack: Stack, gateway: Server, output: Path) -> None:
        self.stack = stack
        self.gateway = gateway
        self.output = output
        self.tokens: list[str] = []

    def token(self, insz: str | None = None, **claims: Any) -> str:
        issuer = self.stack.issuer
        if insz is not None:
            token = issuer.mint(subject=f"citizen-{insz[-3:]}", insz=insz, acr="substantial")
        else:
            token = issuer.mint(acr="substantial", roles=["staff"], **claims)
        self.tokens.append(token)
        return token

    def post(self, query: str, variables: Mapping[str, Any] | None, token: str) -> dict[str, Any]:
        response = httpx.post(
            self.gateway.url + "/graphql",
            json={"query": query, "variables": dict(variables or {})},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        return body

    def log_of(self, insz: str, first: int = 50) -> list[dict[str, Any]]:
        body = self.post(LOG, {"first": first}, self.token(insz))
        assert "errors" not in body, body
        entries: list[dict[str, Any]] = body["data"]["me"]["accessLog"]
        return entries


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("access-log")
    with reference_stack(tmp) as stack:
        output = tmp / "gateway-output.txt"
        argv = ["-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH), "--log-level", "info"]
        for name, url in stack.subgraph_urls().items():
            argv += ["--subgraph-url", f"{name}={url}"]
        gateway = start_python_server(argv, "gateway", stack.env, "/health", output=output)
        try:
            yield World(stack, gateway, output)
        finally:
            gateway.stop()


def staff_reads_child_benefit(world: World, purpose: str) -> dict[str, Any]:
    token = world.token(
        subject=f"case-handler-{purpose}",
        scopes=["allowances:read"],
        organisation="44021",
        purpose=purpose,
        client_id="groeipakket-portal",
    )
    return world.post(CHILD_BENEFIT, {"insz": ANN}, token)


def test_a_civil_servants_read_shows_in_the_citizens_log_within_two_seconds(world: World) -> None:
    before = time.time()
    answer = staff_reads_child_benefit(world, "child-benefit")
    assert "errors" not in answer and answer["data"]["citizen"]["childBenefits"], answer
    read_at = time.monotonic()
    found = None
    while found is None:
        found = next((e for e in world.log_of(ANN) if e["purpose"] == "child-benefit"), None)
        assert time.monotonic() - read_at < 2.0, "the read is not in Ann's log within 2 s"
    assert found["organisation"] == {"nisCode": "44021", "name": "Gent"}
    assert found["role"] == "CIVIL_SERVANT" and found["ownData"] is False
    assert found["application"] == "groeipakket-portal"
    assert found["categories"] == ["child-benefit"]
    assert found["fields"] == ["Citizen.childBenefits"] and found["refusedFields"] == []
    assert found["outcome"] == "ANSWERED"
    at = time.mktime(time.strptime(found["at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 1 <= at <= time.time() + 1
    # Bram's log says nothing of it
    assert not [e for e in world.log_of(BRAM) if e["purpose"] == "child-benefit"]


def test_a_refused_attempt_shows_as_denied(world: World) -> None:
    answer = staff_reads_child_benefit(world, "education")  # the wrong purpose
    assert answer["data"]["citizen"]["childBenefits"] is None
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    deadline = time.monotonic() + 5
    while not (denied := [e for e in world.log_of(ANN) if e["purpose"] == "education"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert denied[0]["outcome"] == "DENIED"
    assert denied[0]["refusedFields"] == ["Citizen.childBenefits"]
    assert denied[0]["categories"] == ["child-benefit"]


def test_a_citizens_own_reads_are_logged_as_their_own(world: World) -> None:
    answer = world.post(PROFILE_QUERY, None, world.token(ANN))
    assert "errors" not in answer
    deadline = time.monotonic() + 5
    while True:
        own = [e for e in world.log_of(ANN) if e["ownData"] and "education" in e["categories"]]
        if own:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert own[0]["role"] == "CITIZEN" and own[0]["organisation"] is None
    assert own[0]["outcome"] == "ANSWERED"
    assert {"child-benefit", "education", "identity", "study-grant", "tickets"} <= set(
        own[0]["categories"]
    )
    # her log is hers alone: Bram's own reads never show in it
    world.log_of(BRAM)
    time.sleep(0.3)
    assert all(e["role"] != "CITIZEN" or e["ownData"] for e in world.log_of(ANN))


def test_pages_follow_the_cursor(world: World) -> None:
    for _ in range(3):
        world.post(PROFILE_QUERY, None, world.token(ANN))
    time.sleep(0.5)
    whole = world.log_of(ANN, first=100)  # reading the log is logged too: newer entries come
    token = world.token(ANN)
    page = world.post(LOG, {"first": 2, "after": whole[0]["cursor"]}, token)
    first = page["data"]["me"]["accessLog"]
    page = world.post(LOG, {"first": 2, "after": first[-1]["cursor"]}, token)
    rest = page["data"]["me"]["accessLog"]
    assert [e["cursor"] for e in first + rest] == [e["cursor"] for e in whole[1:5]]
    bad = world.post(LOG, {"first": 2, "after": "not-a-cursor"}, token)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = world.post(LOG, {"first": 1000}, token)
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


AUDIT_QUERY = """query($insz: ID!) { citizen(insz: $insz) { accessLog(first: 5) { purpose outcome
  organisation { nisCode } } } }"""


def test_an_auditor_reads_a_citizens_log_and_that_read_is_logged(world: World) -> None:
    auditor = world.token(
        subject="auditor-3", scopes=["audit:read"], organisation="24062", purpose="complaint"
    )
    answer = world.post(AUDIT_QUERY, {"insz": ANN}, auditor)
    assert "errors" not in answer, answer
    assert answer["data"]["citizen"]["accessLog"]
    deadline = time.monotonic() + 5
    while not (mine := [e for e in world.log_of(ANN) if e["purpose"] == "complaint"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert mine[0]["categories"] == ["access-log"]
    assert mine[0]["organisation"] == {"nisCode": "24062", "name": "Leuven"}
    # without audit:read, or without a purpose: refused, and that is logged too
    for claims in (
        {"scopes": ["allowances:read"], "purpose": "complaint"},
        {"scopes": ["audit:read"]},
    ):
        refused = world.post(AUDIT_QUERY, {"insz": ANN}, world.token(subject="x", **claims))
        assert refused["data"]["citizen"]["accessLog"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    # a citizen never reads another citizen's log
    other = world.post(AUDIT_QUERY, {"insz": BRAM}, world.token(ANN))
    assert other["data"]["citizen"] is None


def test_no_personal_data_in_the_gateways_output_metrics_or_error_messages(world: World) -> None:
    ann = world.token(ANN)
    reported = world.post(REPORT, {"input": TILE}, ann)  # ticketing invalidates Ann's cache
    assert "errors" not in reported, reported
    messages = []
    for query, variables in (
        ("query($n: Int!) { me { qualifications(first: $n) { totalCount } } }", {"n": ANN}),
        ("query($s: [TicketStatus!]) { me { tickets(status: $s) { id } } }", {"s": [ANN]}),
        ('{ citizen(insz: "85671012384") { insz } }', None),  # fails the mod-97 check
        ("query($i: ID!) { citizen(insz: $i) { name { givenName } } }", {"i": BRAM}),
        ("{ me { qualifications(first: 85671012385) { totalCount } } }", None),
    ):
        body = world.post(query, variables, ann)
        messages += [e["message"] for e in body.get("errors", ())]
    assert messages, "these requests should have been refused"
    staff_reads_child_benefit(world, "child-benefit")
    world.log_of(ANN)
    invalidator = world.token(subject="cache-admin", scopes=["cache:invalidate"])
    invalidated = httpx.post(
        world.gateway.url + "/cache/invalidate",
        json={"tags": [f"Citizen:{ANN}", f"Citizen:{BRAM}"]},
        headers={"authorization": f"Bearer {invalidator}"},
        timeout=10,
    )
    assert invalidated.status_code == 200, invalidated.text
    monitoring = world.stack.metrics_headers()
    metrics = httpx.get(world.gateway.url + "/metrics", headers=monitoring, timeout=10).text
    assert "rugzak_access_log_entries_total" in metrics
    world.gateway.stop()  # its output is complete, shutdown messages included
    output = world.output.read_text(errors="replace")
    assert "cache invalidated by" in output, output  # its info logs are in it
    assert "access log: cannot" not in output, output  # it recorded fine
    forbidden = [ANN, BRAM, "85671012384", SECRET_DESCRIPTION, "SECRET-VALUE-7731", *world.tokens]
    for text, what in ((output, "output"), (metrics, "metrics"), ("\n".join(messages), "errors")):
        for value in forbidden:
            assert value not in text, f"the gateway's {what} holds {value[:20]}..."
        assert not re.search(r"\b\d{2}\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}\b", text), what
        assert not re.search(r"eyJ[\w-]{10,}\.", text), what


def test_staff_reads_are_refused_while_nothing_can_record_them(
    world: World, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the disk refuses: a file where the log's directory should be")
    argv = ["-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH),
            "--access-log", f"sqlite:{blocked / 'audit.sqlite3'}",
            "--access-log-spool", str(blocked / "spool")]  # fmt: skip
    for name, url in world.stack.subgraph_urls().items():
        argv += ["--subgraph-url", f"{name}={url}"]
    gateway = start_python_server(argv, "gateway", world.stack.env, "/health")
    try:
        clerk = world.token(
            subject="case-handler-9", scopes=["allowances:read"], organisation="44021",
            purpose="child-benefit",
        )  # fmt: skip
        refused = httpx.post(
            gateway.url + "/graphql",
            json={"query": CHILD_BENEFIT, "variables": {"insz": ANN}},
            headers={"authorization": f"Bearer {clerk}"},
            timeout=30,
        )
        assert refused.status_code == 503
        assert refused.json()["errors"][0]["extensions"]["code"] == "ACCESS_LOG_UNAVAILABLE"
        assert "data" not in refused.json()
        # a citizen reads her own data (fail open for citizens by default), and public data
        # needs no log at all
        own = httpx.post(
            gateway.url + "/graphql",
            json={"query": "{ me { name { givenName } } municipalities { name } }"},
            headers={"authorization": f"Bearer {world.token(ANN)}"},
            timeout=30,
        )
        assert own.status_code == 200 and own.json()["data"]["me"]["name"]["givenName"] == "Ann"
        monitoring = world.stack.metrics_headers()
        metrics = httpx.get(gateway.url + "/metrics", headers=monitoring, timeout=10).text
        assert "rugzak_access_log_recording 0.0" in metrics
        assert "rugzak_access_log_refused_requests_total 1.0" in metrics
    finally:
        gateway.stop()
