"""The citizen profile through the gateway, over real HTTP: three subgraphs, one query."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.callers import EDUCATION_CLERK
from tests.e2e.stack import ANN, BRAM, PROFILE_QUERY, Stack


def profile(stack: Stack, insz: str | None) -> dict[str, Any]:
    response = stack.query(PROFILE_QUERY, insz=insz)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body


def test_ann_gets_her_whole_profile_from_three_subgraphs(stack: Stack) -> None:
    me = profile(stack, ANN)["data"]["me"]
    assert me["insz"] == ANN
    assert me["name"] == {"givenName": "Ann", "familyName": me["name"]["familyName"]}
    qualifications = [edge["node"] for edge in me["qualifications"]["edges"]]
    assert len(qualifications) >= 2
    assert all(q["institution"]["municipality"]["name"] for q in qualifications)  # a 2nd hop
    (benefit,) = me["childBenefits"]
    assert benefit["payments"] and all(p["amountCents"] > 0 for p in benefit["payments"])
    assert me["studyGrantApplications"]
    tickets = me["tickets"]
    assert len(tickets) == 2
    assert sorted(t["isOpen"] for t in tickets) == [False, True]


def test_bram_gets_his_own_different_profile(stack: Stack) -> None:
    ann = profile(stack, ANN)["data"]["me"]
    bram = profile(stack, BRAM)["data"]["me"]
    assert bram["insz"] == BRAM and bram["name"]["givenName"] == "Bram"
    assert bram["tickets"] and bram["tickets"] != ann["tickets"]
    refs = {t["reference"] for t in bram["tickets"]}
    assert not refs & {t["reference"] for t in ann["tickets"]}


def test_without_a_token_me_is_null_and_refused(stack: Stack) -> None:
    body = stack.query(PROFILE_QUERY).json()
    assert body["data"] == {"me": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["me"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]
    # the caller is told why: no token came with the request (the code stays the same)
    assert body["errors"][0]["message"] == (
        "Unauthorized field or type: Query.me "
        "(no token was sent: send one as Authorization: Bearer TOKEN)"
    )


def test_a_refusal_with_a_token_says_nothing_about_a_missing_token(stack: Stack) -> None:
    body = stack.query(f'{{ citizen(insz: "{BRAM}") {{ insz }} }}', insz=ANN).json()
    assert body["data"] == {"citizen": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert error["message"] == "Unauthorized field or type: Query.citizen"


def test_a_forged_token_is_refused_with_a_graphql_error(stack: Stack) -> None:
    # Bram's claims under Ann's signature: a token someone edited to read another's profile
    header, _, signature = stack.token(ANN).split(".")
    _, bram_claims, _ = stack.token(BRAM).split(".")
    forged = ".".join([header, bram_claims, signature])
    response = httpx.post(
        stack.graphql_url,
        json={"query": PROFILE_QUERY},
        headers={"authorization": f"Bearer {forged}"},
        timeout=10,
    )
    assert response.status_code == 401
    body = response.json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID_SIGNATURE"
    assert "data" not in body


def test_civil_servant_query_by_insz_with_variables(stack: Stack) -> None:
    query = """
      query Citizen($insz: ID!, $first: Int! = 1) {
        citizen(insz: $insz) {
          insz
          qualifications(first: $first) { totalCount edges { node { title } } }
          tickets { reference }
        }
      }
    """
    body = stack.query(query, {"insz": BRAM}, headers=EDUCATION_CLERK.headers(stack.issuer)).json()
    citizen = body["data"]["citizen"]
    assert citizen["insz"] == BRAM
    assert len(citizen["qualifications"]["edges"]) == 1
    # an education clerk's purpose does not cover tickets
    assert citizen["tickets"] is None
    assert [e["path"] for e in body["errors"]] == [["citizen", "tickets"]]


def test_a_subgraph_error_keeps_its_path(stack: Stack) -> None:
    query = '{ citizen(insz: "85671012386") { insz tickets { reference } } }'
    body = stack.query(query, headers=EDUCATION_CLERK.headers(stack.issuer)).json()
    assert body["data"] == {"citizen": None}
    (error,) = body["errors"]
    assert error["path"] == ["citizen"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
