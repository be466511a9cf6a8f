"""Education: qualifications as a Relay connection, partial dates, bad page arguments."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from resolvers.common.population import ANN_INSZ, BRAM_INSZ
from tests.subgraphs.conftest import Client

PAGE = """
query($insz: ID!, $first: Int!, $after: String, $status: QualificationStatus) {
  citizen(insz: $insz) {
    qualifications(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id kind title programme vksLevel eqfLevel status cancellationReason
          issueDate { year month day iso date }
          institution { institutionNumber name kind municipality { nisCode } }
        }
      }
    }
  }
}
"""


def page(client: Client, **variables: Any) -> Any:
    variables.setdefault("insz", ANN_INSZ)
    return client.data(PAGE, variables)["citizen"]["qualifications"]


def test_walk_anns_qualifications_page_by_page(education: Client) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        current = page(education, first=2, after=after)
        pages += 1
        assert current["totalCount"] == 5
        assert len(current["edges"]) <= 2
        seen += [edge["node"] for edge in current["edges"]]
        assert current["pageInfo"]["hasPreviousPage"] == (after is not None)
        assert current["pageInfo"]["endCursor"] == current["edges"][-1]["cursor"]
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    assert pages == 3
    assert len({node["id"] for node in seen}) == 5
    # newest first, by the known part of the date
    assert [node["issueDate"]["iso"] for node in seen] == [
        "2013-03-22",
        "2012",
        "2008-07-04",
        "2006-07",
        "2003-06",
    ]
    everything = page(education, first=100)
    assert [edge["node"] for edge in everything["edges"]] == seen
    assert everything["pageInfo"]["hasNextPage"] is False


def test_partial_dates_and_levels(education: Client) -> None:
    nodes = {e["node"]["programme"]: e["node"] for e in page(education, first=10)["edges"]}
    master = nodes["Master in de pedagogische wetenschappen"]
    assert master["issueDate"] == {
        "year": 2008,
        "month": 7,
        "day": 4,
        "iso": "2008-07-04",
        "date": "2008-07-04",
    }
    assert master["vksLevel"] == master["eqfLevel"] == 7
    assert master["institution"]["name"] == "Universiteit Gent"
    assert master["institution"]["municipality"] == {"nisCode": "44021"}
    certificate = nodes["Basiskennis bedrijfsbeheer"]
    assert certificate["kind"] == "CERTIFICATE"
    assert certificate["issueDate"] == {
        "year": 2012,
        "month": None,
        "day": None,
        "iso": "2012",
        "date": None,
    }
    secondary = nodes["Latijn-Wiskunde (aso)"]
    assert secondary["issueDate"]["iso"] == "2003-06" and secondary["issueDate"]["date"] is None


def test_status_filter(education: Client) -> None:
    cancelled = page(education, first=10, status="CANCELLED")
    assert cancelled["totalCount"] == 1
    node = cancelled["edges"][0]["node"]
    assert node["status"] == "CANCELLED" and node["cancellationReason"]
    registered = page(education, first=10, status="REGISTERED")
    assert registered["totalCount"] == 4
    assert all(e["node"]["cancellationReason"] is None for e in registered["edges"])


def test_bram_has_a_secondary_school_diploma(education: Client) -> None:
    bram = page(education, insz=BRAM_INSZ, first=10)
    assert bram["totalCount"] == 1
    node = bram["edges"][0]["node"]
    assert node["title"] == "Diploma van secundair onderwijs"
    assert node["issueDate"]["date"] == "2021-06-30"
    assert node["institution"]["name"] == "Koninklijk Atheneum Antwerpen"


def test_an_empty_page_still_counts(education: Client) -> None:
    empty = page(education, first=0)
    assert empty["edges"] == []
    assert empty["totalCount"] == 5
    assert empty["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("first", "after", "field"),
    [
        (-1, None, "first"),
        (101, None, "first"),
        (10, "not a cursor!", "after"),
        (10, "Zm9v", "after"),  # base64 of "foo"
        (10, _cursor("ticket:3"), "after"),  # a cursor of another list
        (10, _cursor("qualification:-1"), "after"),
    ],
)
def test_bad_page_arguments_are_bad_user_input(
    education: Client, first: int, after: str | None, field: str
) -> None:
    data, errors = education.errors(PAGE, {"insz": ANN_INSZ, "first": first, "after": after})
    assert data == {"citizen": {"qualifications": None}}  # only the connection is lost
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["field"] == field
    assert errors[0]["path"] == ["citizen", "qualifications"]


def test_an_unknown_enum_value_in_a_variable_is_bad_user_input(education: Client) -> None:
    _, errors = education.errors(PAGE, {"insz": ANN_INSZ, "first": 1, "status": "LOST"})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_institution_lookup(education: Client) -> None:
    query = "query($n: ID!) { institution(institutionNumber: $n) { name kind } }"
    assert education.data(query, {"n": "030163"}) == {
        "institution": {"name": "KU Leuven", "kind": "UNIVERSITY"}
    }
    assert education.data(query, {"n": "999999"}) == {"institution": None}
