"""What the reference subgraphs say about caching their answers: `Cache-Control` from what the
operation selects, `extensions.cacheTags` from what it read; and the invalidations they send."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from graphql import parse

from auth.gateway_signature import SIGNATURE_HEADER, GatewaySignatureVerifier
from resolvers.common.population import ANN_INSZ, BRAM_INSZ
from subgraphs.allowances import schema as allowances_module
from subgraphs.common.caching import HintCache, operation_hint, private, public
from subgraphs.common.invalidation import GatewayInvalidator, invalidator_from_env, metrics_text
from subgraphs.education import schema as education_module
from subgraphs.ticketing import schema as ticketing_module
from subgraphs.ticketing.schema import CACHE_HINTS as TICKETING_HINTS
from subgraphs.ticketing.schema import schema as ticketing_schema
from tests.gateway_issuer import GatewayIssuer
from tests.subgraphs.conftest import CLERK, Client

SECRET = b"s" * 32
OLD_SECRET = b"o" * 32


def answer(client: Client, query: str, token: Any = CLERK, **variables: Any) -> httpx.Response:
    """The response to `query`, as the civil servant unless `token` says otherwise (None:
    anonymous)."""
    response = client.post(query, variables or None, token=token)
    assert response.status_code == 200, response.text
    return response


def tags(response: httpx.Response) -> list[str]:
    extensions = response.json().get("extensions") or {}
    found: list[str] = extensions.get("cacheTags", [])
    return found


@pytest.fixture(scope="module")
def ann(issuer: GatewayIssuer) -> str:
    return issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims={"acr": "substantial"})


# --- the fold over the operation -------------------------------------------------------------


def hint_of(query: str, operation_name: str | None = None) -> Any:
    graphql_schema = ticketing_schema._schema
    return operation_hint(graphql_schema, parse(query), operation_name, TICKETING_HINTS)


def test_the_most_restrictive_hint_of_the_selected_fields_wins() -> None:
    assert hint_of("{ municipalities { name } }") == public(86400)
    assert hint_of("{ municipalities { name openTicketCount } }") == public(60)
    assert hint_of('{ ticket(id: "1") { status municipality { name } } }') == private(60)
    assert hint_of("{ me { insz } }") == private(3600)
    assert hint_of("{ me { tickets { id } } }") == private(60)


def test_fragments_and_entities_count_like_fields() -> None:
    spread = """
        query { _entities(representations: []) { ...T ... on Municipality { name } } }
        fragment T on Ticket { status }
    """
    assert hint_of(spread) == private(60)
    only_places = "query { _entities(representations: []) { ... on Municipality { name } } }"
    assert hint_of(only_places) == public(86400)


def test_nothing_hinted_and_mutations_are_not_cacheable() -> None:
    assert hint_of("{ __typename }") is None
    assert hint_of("{ _service { sdl } }") is None
    mutation = 'mutation { updateTicketStatus(id: "1", status: CLOSED) { status } }'
    assert hint_of(mutation) is None
    two = "query A { municipalities { name } } mutation B { reportTicket { id } }"
    assert hint_of(two, "A") == public(86400)
    assert hint_of(two, "B") is None


def test_hints_are_remembered_per_query_text_within_a_bound() -> None:
    remembered = HintCache(TICKETING_HINTS, size=2)
    graphql_schema = ticketing_schema._schema
    queries = ["{ municipalities { name } }", "{ me { insz } }", "{ me { tickets { id } } }"]
    for query in queries:
        remembered.hint(graphql_schema, query, parse(query), None)
    assert len(remembered._known) == 2
    # remembered: the document is not looked at again
    assert remembered.hint(graphql_schema, queries[2], parse("{ __typename }"), None) == private(60)


@pytest.mark.parametrize("module", [education_module, allowances_module, ticketing_module])
def test_every_hint_names_a_type_or_field_of_its_schema(module: Any) -> None:
    type_map = module.schema._schema.type_map
    assert "Citizen" in module.CACHE_HINTS  # personal data: every subgraph says private
    assert module.CACHE_HINTS["Citizen"].private
    for name, hint in module.CACHE_HINTS.items():
        type_name, _, field = name.partition(".")
        assert type_name in type_map
        assert not field or field in type_map[type_name].fields
        assert hint.max_age > 0


# --- over the servers ------------------------------------------------------------------------


def test_public_institutions_for_an_hour(education: Client) -> None:
    query = "query($n: ID!) { institution(institutionNumber: $n) { name } }"
    number = education.data(
        "query($i: ID!) { citizen(insz: $i) { qualifications(first: 1) { edges { node { "
        "institution { institutionNumber } } } } } }",
        {"i": ANN_INSZ},
    )["citizen"]["qualifications"]["edges"][0]["node"]["institution"]["institutionNumber"]
    response = answer(education, query, n=number)
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert tags(response) == [f"Institution:{number}"]


def test_a_citizens_diplomas_privately_for_an_hour(education: Client, ann: str) -> None:
    query = "{ me { qualifications { edges { node { title institution { name } } } } } }"
    response = answer(education, query, ann)
    assert response.headers["cache-control"] == "private, max-age=3600"
    found = tags(response)
    assert f"Citizen:{ANN_INSZ}" in found
    assert any(t.startswith("Institution:") for t in found)


def test_a_citizens_allowances_privately_for_five_minutes(allowances: Client, ann: str) -> None:
    response = answer(allowances, "{ me { childBenefits { startDate } } }", ann)
    assert response.headers["cache-control"] == "private, max-age=300"
    assert tags(response) == [f"Citizen:{ANN_INSZ}"]


def test_tickets_privately_for_a_minute_tagged_with_each_ticket(
    ticketing: Client, ann: str
) -> None:
    response = answer(ticketing, "{ me { tickets { id municipality { name } } } }", ann)
    assert response.headers["cache-control"] == "private, max-age=60"
    ids = [t["id"] for t in response.json()["data"]["me"]["tickets"]]
    assert len(ids) == 2
    assert set(tags(response)) == {
        f"Citizen:{ANN_INSZ}",
        "Municipality:44021",
        *(f"Ticket:{i}" for i in ids),
    }


def test_municipalities_publicly_for_a_day_but_open_counts_for_a_minute(
    ticketing: Client,
) -> None:
    names = answer(ticketing, "{ municipalities { name } }", token=None)
    assert names.headers["cache-control"] == "public, max-age=86400"
    counts = answer(ticketing, '{ municipality(nisCode: "44021") { openTicketCount } }', None)
    assert counts.headers["cache-control"] == "public, max-age=60"
    assert tags(counts) == ["Municipality:44021"]


def test_entity_fetches_are_tagged_with_their_entities(ticketing: Client) -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Citizen { tickets { status } } ... on Ticket { status } } }"""
    reps = [{"__typename": "Citizen", "insz": BRAM_INSZ}, {"__typename": "Ticket", "id": "1"}]
    response = answer(ticketing, query, r=reps)
    assert response.headers["cache-control"] == "private, max-age=60"
    found = set(tags(response))
    assert {f"Citizen:{BRAM_INSZ}", "Ticket:1"} <= found


def test_errors_mutations_and_unknown_operations_are_no_store(ticketing: Client) -> None:
    bad_insz = answer(ticketing, '{ citizen(insz: "12345678901") { insz } }')
    assert bad_insz.json()["errors"] and bad_insz.headers["cache-control"] == "no-store"
    invalid = ticketing.post("{ nope }")
    assert invalid.headers["cache-control"] == "no-store"
    assert answer(ticketing, "{ __typename }").headers["cache-control"] == "no-store"
    mutation = 'mutation { updateTicketStatus(id: "1", status: CLOSED) { status } }'
    refused = answer(ticketing, mutation, token=None)
    assert refused.headers["cache-control"] == "no-store"


# --- telling the gateway ---------------------------------------------------------------------


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return httpx.Response(self.status, json={"invalidated": 1})


def test_an_invalidation_is_signed_for_each_secret() -> None:
    recorder = Recorder()
    invalidator = GatewayInvalidator(
        "http://gateway.test/rugzak/", "ticketing", (SECRET, OLD_SECRET), transport=recorder
    )
    ok = asyncio.run(invalidator.invalidate(["Ticket:7", "Citizen:1", "Ticket:7"]))
    assert ok and invalidator.sent == 1 and invalidator.failed == 0
    (request,) = recorder.requests
    assert str(request.url) == "http://gateway.test/rugzak/cache/invalidate"
    assert request.content == b'{"tags":["Citizen:1","Ticket:7"]}'
    signature = request.headers[SIGNATURE_HEADER]
    assert request.headers["x-rugzak-subgraph"] == "ticketing"  # who signs (and it is signed)
    # a gateway that has either secret (before or after a rotation) accepts it
    for secret in (SECRET, OLD_SECRET):
        GatewaySignatureVerifier([secret]).verify(
            signature, "POST", "/rugzak/cache/invalidate", request.content, request.headers
        )


def test_a_failed_invalidation_is_counted_not_raised() -> None:
    refused = GatewayInvalidator("http://gateway.test", "t", (SECRET,), transport=Recorder(401))
    assert asyncio.run(refused.invalidate(["Ticket:7"])) is False
    slow = GatewayInvalidator(
        "http://gateway.test", "t", (SECRET,), timeout=0.05, transport=Recorder(delay=5)
    )
    assert asyncio.run(slow.invalidate(["Ticket:7"])) is False
    down = GatewayInvalidator("http://127.0.0.1:9", "t", (SECRET,), timeout=0.5)
    assert asyncio.run(down.invalidate(["Ticket:7"])) is False
    assert (refused.failed, slow.failed, down.failed) == (1, 1, 1)
    assert 'rugzak_subgraph_cache_invalidations_total{outcome="failed"} 1' in metrics_text(down)
    assert 'outcome="sent"} 0' in metrics_text(None)


def test_the_gateway_url_comes_from_the_environment() -> None:
    assert invalidator_from_env("ticketing", (), {}) is None
    with pytest.raises(ValueError, match="http"):
        invalidator_from_env("ticketing", (), {"RUGZAK_GATEWAY_URL": "gateway:4000"})
    made = invalidator_from_env("ticketing", (SECRET,), {"RUGZAK_GATEWAY_URL": "http://gw:4000"})
    assert made is not None and made.url == "http://gw:4000/cache/invalidate"
    asyncio.run(made.aclose())
