"""The gateway's own Cache-Control and ETags, over the real gateway and subgraphs on loopback.

Public data asked anonymously may be cached by anyone for as long as the subgraphs allow; the
same data asked with credentials only by the caller; personal data, errors and mutations not at
all. A GET naming a persisted query gets an ETag and a 304 when the client has the answer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from auth.principal import ANONYMOUS
from tests.e2e.stack import ANN, Stack, reference_stack

GENT = '{ municipality(nisCode: "44021") { name } }'
TICKET = '{ ticket(id: "458") { reference status } }'
CHANGE = """
mutation($id: ID!, $status: TicketStatus!) {
  updateTicketStatus(id: $id, status: $status) { id status }
}
"""


def max_age(header: str) -> int:
    (value,) = [d.split("=")[1] for d in header.split(", ") if d.startswith("max-age=")]
    return int(value)


def persisted_get(
    stack: Stack, query: str, headers: dict[str, str] | None = None, register: bool = False
) -> httpx.Response:
    digest = hashlib.sha256(query.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    params = {"extensions": orjson.dumps(persisted).decode()}
    if register:
        params["query"] = query
    return httpx.get(stack.graphql_url, params=params, headers=headers or {}, timeout=30.0)


def test_public_data_asked_anonymously_is_public_for_the_subgraphs_max_age(stack: Stack) -> None:
    response = stack.query(GENT)
    assert response.json() == {"data": {"municipality": {"name": "Gent"}}}
    control = response.headers["cache-control"]
    assert control.startswith("public, max-age=")
    own = stack.subgraph_post("ticketing", GENT, as_gateway=ANONYMOUS).headers["cache-control"]
    assert own.startswith("public") and max_age(control) == max_age(own)
    again = stack.query(GENT)  # from the gateway's entity cache now: the same header
    assert again.headers["cache-control"] == control
    # its media type and status depend on Accept: a shared cache must key on it
    assert "accept" in [v.strip().lower() for v in again.headers["vary"].split(",")]


def test_an_authenticated_request_never_gets_public(stack: Stack) -> None:
    response = stack.query(GENT, insz=ANN)
    assert response.json() == {"data": {"municipality": {"name": "Gent"}}}
    control = response.headers["cache-control"]
    assert "public" not in control and control.startswith(("private", "no-store"))
    with_cookie = stack.query(GENT, headers={"cookie": "session=1"})
    assert "public" not in with_cookie.headers["cache-control"]


def test_public_and_personal_data_together_is_not_stored(stack: Stack) -> None:
    query = '{ me { name { givenName } } municipality(nisCode: "44021") { name } }'
    body = stack.query(query, insz=ANN).json()
    assert "errors" not in body and body["data"]["municipality"] == {"name": "Gent"}
    response = stack.query(query, insz=ANN)
    assert response.headers["cache-control"] == "no-store"


def test_a_subgraphs_private_hint_keeps_the_answer_private(stack: Stack) -> None:
    own = stack.subgraph_post("ticketing", TICKET, as_gateway=ANONYMOUS).headers["cache-control"]
    assert own.startswith("private")
    response = stack.query(TICKET)
    assert "errors" not in response.json()
    assert response.headers["cache-control"].startswith("private, max-age=")


@pytest.mark.parametrize(
    "content",
    [
        b'{"query": "{ me { name { givenName } } }"}',  # an error: no token was sent
        b'{"query": "{ municipality(nisCode: \\"44021\\") { name } "}',  # does not parse
        b'{"query": "{ nosuchfield }"}',
        b"not json",
    ],
)
def test_errors_are_not_stored(stack: Stack, content: bytes) -> None:
    headers = {"content-type": "application/json"}
    response = httpx.post(stack.graphql_url, content=content, headers=headers, timeout=30.0)
    assert "errors" in response.json()
    assert response.headers["cache-control"] == "no-store"


def test_a_persisted_get_gets_an_etag_and_a_304(stack: Stack) -> None:
    first = persisted_get(stack, GENT, register=True)
    assert first.status_code == 200 and first.json()["data"] == {"municipality": {"name": "Gent"}}
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    second = persisted_get(stack, GENT)  # by its hash alone now
    assert second.status_code == 200 and second.headers["etag"] == tag
    assert second.headers["cache-control"].startswith("public, max-age=")
    unchanged = persisted_get(stack, GENT, {"if-none-match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == tag
    assert unchanged.headers["cache-control"] == second.headers["cache-control"]
    listed = persisted_get(stack, GENT, {"if-none-match": f'"other", W/{tag}'})
    assert listed.status_code == 304
    other = persisted_get(stack, GENT, {"if-none-match": '"something-else"'})
    assert other.status_code == 200 and other.headers["etag"] == tag
    assert other.json() == second.json()


def test_a_post_gets_no_etag(stack: Stack) -> None:
    response = stack.query(GENT)
    assert "etag" not in response.headers


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: its tickets change."""
    with reference_stack(tmp_path_factory.mktemp("http-caching")) as running:
        yield running


def status_of(response: httpx.Response) -> Any:
    return response.json()["data"]["ticket"]["status"]


def test_a_changed_answer_gets_a_new_etag(own_stack: Stack) -> None:
    first = persisted_get(own_stack, TICKET, register=True)
    tag = first.headers["etag"]
    assert persisted_get(own_stack, TICKET, {"if-none-match": tag}).status_code == 304
    token = own_stack.issuer.mint(
        subject="civil-servant-gent",
        roles=["staff"],
        scopes=["tickets:write"],
        organisation="44021",
        acr="substantial",
    )
    status = "ON_HOLD" if status_of(first) != "ON_HOLD" else "IN_PROGRESS"
    changed = own_stack.query(
        CHANGE, {"id": "458", "status": status}, headers={"authorization": f"Bearer {token}"}
    )
    assert changed.json() == {"data": {"updateTicketStatus": {"id": "458", "status": status}}}
    assert changed.headers["cache-control"] == "no-store"  # a mutation
    fresh = persisted_get(own_stack, TICKET, {"if-none-match": tag})
    assert fresh.status_code == 200 and status_of(fresh) == status
    assert fresh.headers["etag"] != tag
