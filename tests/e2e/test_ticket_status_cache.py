"""A ticket's status changes while citizens' tickets sit in the gateway's cache: the real gateway
and the three reference subgraphs over loopback, the entity cache in memory and in a real
redis-server. The subgraphs say what may be cached (Cache-Control, extensions.cacheTags);
ticketing tells the gateway, signed with its own invalidation key, which answers a change made
stale.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import orjson
import pytest

from auth.gateway_signature import SIGNATURE_HEADER, GatewaySigner
from auth.invalidation_keys import derive_key
from tests.e2e.stack import ANN, BRAM, Stack, reference_stack
from tests.redis_server import redis_server

MY_TICKETS = "{ me { tickets { id reference status statusHistory { status } } } }"
CHANGE = """
mutation($id: ID!, $status: TicketStatus!, $note: String) {
  updateTicketStatus(id: $id, status: $status, note: $note) { id status }
}
"""
GENT, LEUVEN = "44021", "24062"


@pytest.fixture(scope="module", params=["memory", "redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A stack of its own (its tickets change), with the cache in memory or in Redis."""
    with ExitStack() as running:
        options: tuple[str, ...] = ()
        if request.param == "redis":
            redis = running.enter_context(redis_server())
            options = ("--cache", redis.url)
        tmp = tmp_path_factory.mktemp(f"ticket-status-{request.param}")
        yield running.enter_context(reference_stack(tmp, *options))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def civil_servant(stack: Stack, org: str | None, *scopes: str) -> dict[str, str]:
    token = stack.issuer.mint(
        subject=f"civil-servant-{org}",
        roles=["staff"],
        scopes=scopes,
        organisation=org,
        acr="substantial",
    )
    return bearer(token)


def my_tickets(stack: Stack, insz: str) -> tuple[list[dict[str, Any]], int]:
    """A citizen's tickets, and how many subgraph requests the gateway made for them."""
    response = stack.query(MY_TICKETS, insz=insz)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["me"]["tickets"], int(response.headers["x-subgraph-requests"])


def metric(stack: Stack, url: str, name: str) -> float:
    headers = stack.metrics_headers()  # the gateway wants it; subgraphs ignore it
    for line in httpx.get(url + "/metrics", headers=headers, timeout=10.0).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def change(stack: Stack, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = stack.query(CHANGE, variables, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_status_change_is_fresh_in_the_citizens_next_read(stack: Stack) -> None:
    ticketing_requests = 'rugzak_subgraph_requests_total{subgraph="ticketing"}'
    ann, sent = my_tickets(stack, ANN)
    assert sent >= 1 and len(ann) == 2
    before = metric(stack, stack.gateway.url, ticketing_requests)
    again, sent = my_tickets(stack, ANN)
    assert (again, sent) == (ann, 0)  # from the cache
    assert metric(stack, stack.gateway.url, ticketing_requests) == before
    bram, sent = my_tickets(stack, BRAM)
    assert sent >= 1  # not Ann's entry
    assert {t["id"] for t in bram}.isdisjoint(t["id"] for t in ann)
    assert my_tickets(stack, BRAM) == (bram, 0)

    tile = next(t for t in ann if t["status"] == "SCHEDULED")
    gent = civil_servant(stack, GENT, "tickets:write")
    body = change(stack, gent, id=tile["id"], status="IN_PROGRESS", note="Ploeg ter plaatse.")
    assert body == {"data": {"updateTicketStatus": {"id": tile["id"], "status": "IN_PROGRESS"}}}

    fresh, sent = my_tickets(stack, ANN)
    assert sent >= 1
    changed = next(t for t in fresh if t["id"] == tile["id"])
    assert changed["status"] == "IN_PROGRESS"
    assert changed["statusHistory"][-1] == {"status": "IN_PROGRESS"}
    assert my_tickets(stack, ANN) == (fresh, 0)  # cached again
    assert my_tickets(stack, BRAM) == (bram, 0)  # Bram's answer did not depend on it

    invalidations = "rugzak_entity_cache_invalidations_total"
    assert metric(stack, stack.gateway.url, f'{invalidations}{{type="Ticket"}}') == 1
    assert metric(stack, stack.gateway.url, f'{invalidations}{{type="Citizen"}}') == 1
    sent_by_ticketing = 'rugzak_subgraph_cache_invalidations_total{outcome="sent"}'
    assert metric(stack, stack.subgraphs["ticketing"].url, sent_by_ticketing) == 1


def test_only_gent_staff_with_the_scope_change_a_gent_ticket(stack: Stack) -> None:
    ann, _ = my_tickets(stack, ANN)
    ticket = ann[0]["id"]
    leuven = change(
        stack, civil_servant(stack, LEUVEN, "tickets:write"), id=ticket, status="ON_HOLD"
    )
    assert leuven["data"] is None
    assert leuven["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # the gateway's policy refuses these before ticketing is asked
    for headers in (
        bearer(stack.token(ANN)),
        civil_servant(stack, GENT, "tickets:read"),
        {},
    ):
        refused = change(stack, headers, id=ticket, status="ON_HOLD")
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    gent = civil_servant(stack, GENT, "tickets:write")
    bad = change(stack, gent, id=ticket, status="NEW")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = change(stack, gent, id="99999999", status="ON_HOLD")
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # nothing changed, so nothing was invalidated: Ann's tickets still come from the cache
    assert my_tickets(stack, ANN) == (ann, 0)


def test_ann_never_gets_brams_cached_tickets(stack: Stack) -> None:
    expected = {who: my_tickets(stack, who)[0] for who in (ANN, BRAM)}

    def read(who: str) -> tuple[str, list[dict[str, Any]]]:
        return who, my_tickets(stack, who)[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, [ANN, BRAM] * 10))
    assert all(tickets == expected[who] for who, tickets in results)
    # and an anonymous caller gets nobody's
    anonymous = stack.query(MY_TICKETS).json()
    assert anonymous["data"]["me"] is None


def test_the_gateway_takes_invalidations_signed_with_a_subgraphs_own_key(stack: Stack) -> None:
    url = stack.gateway.url + "/cache/invalidate"
    body = orjson.dumps({"tags": ["Ticket:1"]})

    def post(
        content: bytes,
        key: bytes,
        subgraph: str = "ticketing",
        signed: bytes = body,
        **headers: str,
    ) -> httpx.Response:
        sent = {"content-type": "application/json", "x-rugzak-subgraph": subgraph, **headers}
        sent[SIGNATURE_HEADER] = GatewaySigner(key).sign("POST", "/cache/invalidate", signed, sent)
        return httpx.post(url, content=content, headers=sent, timeout=10.0)

    def code(response: httpx.Response) -> str:
        return str(response.json()["errors"][0]["extensions"]["code"])

    ticketing = derive_key(stack.invalidation_master, "ticketing")
    education = derive_key(stack.invalidation_master, "education")
    ok = post(body, ticketing)
    assert ok.status_code == 200 and ok.json() == {"invalidated": 1, "tags": ["Ticket:1"]}
    entity = orjson.dumps({"entities": [{"__typename": "Municipality", "nisCode": GENT}]})
    assert post(entity, ticketing, signed=entity).json()["tags"] == [f"Municipality:{GENT}"]
    for wrong in (
        post(body, b"another key of at least 32 bytes!!!!"),
        post(b'{"tags": ["Citizen:85671012385"]}', ticketing),  # not what was signed
        post(body, ticketing, subgraph="education"),  # another's name
        post(body, education, subgraph="nobody"),  # no such subgraph
        post(body, stack.invalidation_master),  # the master is not a subgraph's key
    ):
        assert wrong.status_code == 401, wrong.text
        assert code(wrong) == "INVALID_GATEWAY_SIGNATURE"
    # education's own key is good, but education resolves no Ticket: not its data to drop
    foreign = post(body, education, subgraph="education")
    assert foreign.status_code == 403 and code(foreign) == "FORBIDDEN", foreign.text
    mine = orjson.dumps({"tags": [f"Citizen:{ANN}", "Institution:x"]})
    assert post(mine, education, subgraph="education", signed=mine).status_code == 200
    # a bad signature is refused even next to a token that could invalidate on its own
    allowed = stack.issuer.mint(subject="operator", scopes=["cache:invalidate"])
    both = post(body, b"another key of at least 32 bytes!!!!", authorization=f"Bearer {allowed}")
    assert both.status_code == 401
    # without a signature: the token with the scope, any tag, as before
    assert httpx.post(url, content=body, headers=bearer(allowed)).status_code == 200
    assert httpx.post(url, content=body).status_code == 403
