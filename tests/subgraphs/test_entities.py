"""`_entities`: resolved through per-request dataloaders, so the store query count is constant.

The subgraphs report the SQL statements a request cost in the `x-store-queries` header.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from resolvers.common.insz import make_insz
from resolvers.common.population import population
from tests.subgraphs.conftest import Client, store_queries


def select(selection: str) -> str:
    """An `_entities` operation with this selection on each entity."""
    return "query($r: [_Any!]!) { _entities(representations: $r) { " + selection + " } }"


CITIZEN_NAMES = select("... on Citizen { insz name { givenName } }")
CITIZEN_INSZ = select("... on Citizen { insz }")
QUALIFICATIONS = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Citizen {
      insz
      qualifications(first: 3) { totalCount edges { node { programme institution { name } } } }
    }
  }
}
"""
ALLOWANCES = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Citizen {
      childBenefits { child { givenName } components { category } payments { amountCents } }
    }
  }
}
"""
STUDY_GRANTS = select(
    "... on Citizen { studyGrantApplications { status payments { amountCents } } }"
)
TICKETS = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Citizen {
      tickets { reference status municipality { name openTicketCount } }
    }
  }
}
"""


def citizens(count: int) -> list[dict[str, Any]]:
    return [{"__typename": "Citizen", "insz": p.insz} for p in population()[:count]]


def entities(
    client: Client,
    query: str,
    representations: list[dict[str, Any]],
    purpose: str | None = None,
) -> tuple[Any, int]:
    response = client.post(query, {"r": representations}, purpose=purpose)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]["_entities"], store_queries(response)


def test_100_citizens_cost_one_store_query(subgraph: Client) -> None:
    query = CITIZEN_INSZ if subgraph.server.name == "ticketing" else CITIZEN_NAMES
    found, queries = entities(subgraph, query, citizens(100))
    assert queries == 1
    assert [entity["insz"] for entity in found] == [p.insz for p in population()[:100]]
    if subgraph.server.name != "ticketing":
        assert found[0]["name"] == {"givenName": "Ann"}


def test_unknown_citizens_resolve_to_null_in_the_same_query(subgraph: Client) -> None:
    unknown = make_insz(date(1901, 1, 1), 997)
    representations = citizens(3)
    representations.insert(1, {"__typename": "Citizen", "insz": unknown})
    found, queries = entities(subgraph, CITIZEN_INSZ, representations)
    assert queries == 1
    assert found[1] is None
    assert [e["insz"] for e in found if e] == [p.insz for p in population()[:3]]


def test_nested_fields_cost_one_query_per_kind_whatever_the_count(
    education: Client, allowances: Client, ticketing: Client
) -> None:
    for client, query, purpose in (
        (education, QUALIFICATIONS, None),
        (allowances, ALLOWANCES, None),
        (allowances, STUDY_GRANTS, "study-grant"),
        (ticketing, TICKETS, None),
    ):
        _, few = entities(client, query, citizens(10), purpose)
        many_found, many = entities(client, query, citizens(200), purpose)
        assert len(many_found) == 200
        assert few == many, client.server.name
    _, queries = entities(education, QUALIFICATIONS, citizens(200))
    assert queries == 3  # citizens, qualifications, institutions


def test_other_entities_batch_too(education: Client, ticketing: Client) -> None:
    tickets = [{"__typename": "Ticket", "id": str(i)} for i in range(1, 101)]
    found, queries = entities(
        ticketing,
        select("... on Ticket { id reference }"),
        tickets,
    )
    assert queries == 1
    assert [t["id"] for t in found] == [str(i) for i in range(1, 101)]
    places = [
        {"__typename": "Municipality", "nisCode": code} for code in ("44021", "11002", "99999")
    ]
    found, queries = entities(
        ticketing,
        select("... on Municipality { name }"),
        places,
    )
    assert queries == 1
    assert found == [{"name": "Gent"}, {"name": "Antwerpen"}, None]
    institutions = [
        {"__typename": "Institution", "institutionNumber": number}
        for number in ("030155", "031021")
    ]
    found, queries = entities(
        education,
        select("... on Institution { name kind }"),
        institutions,
    )
    assert queries == 1
    assert found == [
        {"name": "Universiteit Gent", "kind": "UNIVERSITY"},
        {"name": "Arteveldehogeschool", "kind": "UNIVERSITY_COLLEGE"},
    ]


def test_every_response_reports_its_store_queries(subgraph: Client) -> None:
    response = subgraph.post("{ __typename }")
    assert response.headers["x-store-queries"] == "0"
    response = subgraph.post("{ me { insz } }")
    assert response.headers["x-store-queries"] == "0"  # anonymous: no lookup at all
