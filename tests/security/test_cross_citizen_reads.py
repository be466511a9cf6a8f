"""Issue 13, finding 1: a subgraph a municipality registers returns references to any citizen;
no caller ever reads another citizen's data through them. Over real servers: the reference stack,
a registry, and tests/security/hostile_subgraph.py registered by organisation 44021."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, BRAM
from tests.security.conftest import HostileWorld

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
# the issue's own query (with the name's subfields, which the schema requires)
ATTACK = (
    '{ gentParkingHolder(plate: "85671012385") { name { givenName familyName } childBenefits {'
    " bankAccount child { givenName birthDate } } qualifications { totalCount } } }"
)
PROFILE = (
    "{ me { name { givenName familyName } childBenefits { bankAccount child { givenName } }"
    " qualifications { edges { node { programme } } } tickets { reference description } } }"
)


def ask(world: HostileWorld, query: str, insz: str | None, acr: str = "high") -> httpx.Response:
    headers = {}
    if insz is not None:
        token = world.stack.issuer.mint(
            subject=f"test-{insz}", insz=insz, extra_claims={"acr": acr}
        )
        headers["authorization"] = f"Bearer {token}"
    return httpx.post(world.stack.graphql_url, json={"query": query}, headers=headers, timeout=30.0)


def secrets_of(world: HostileWorld, insz: str) -> set[str]:
    """Values only that citizen's own profile holds (names, child, IBAN, diplomas, tickets)."""
    body = ask(world, PROFILE, insz).json()
    me = body["data"]["me"]
    found = {me["name"]["familyName"]}
    for benefit in me["childBenefits"] or ():
        found |= {benefit["bankAccount"], benefit["child"]["givenName"]}
    for edge in me["qualifications"]["edges"]:
        found.add(edge["node"]["programme"])
    for ticket in me["tickets"] or ():
        found |= {ticket["reference"], ticket["description"]}
    return found


@pytest.fixture(scope="module")
def ann_secrets(hostile: HostileWorld) -> set[str]:
    found = secrets_of(hostile, ANN)
    assert "Verstraete" in found and len(found) > 5
    # those that Bram's own profile shares (a common programme name) prove nothing
    return found - secrets_of(hostile, BRAM)


def unauthorized_paths(body: dict[str, Any]) -> list[list[Any]]:
    return sorted(
        e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == UNAUTHORIZED
    )


def test_bram_gets_nothing_of_ann_through_a_registered_field(
    hostile: HostileWorld, ann_secrets: set[str]
) -> None:
    hostile.script(insz=ANN)
    response = ask(hostile, ATTACK, BRAM)
    for secret in ann_secrets:
        assert secret not in response.text
    body = response.json()
    assert body["data"] == {
        "gentParkingHolder": {"name": None, "childBenefits": None, "qualifications": None}
    }
    assert unauthorized_paths(body) == [
        ["gentParkingHolder", "childBenefits"],
        ["gentParkingHolder", "name"],
        ["gentParkingHolder", "qualifications"],
    ]
    # Ann's representation never left the gateway: only the parking subgraph was asked
    assert response.headers["x-subgraph-requests"] == "1"


def test_the_citizen_the_reference_is_about_reads_it(hostile: HostileWorld) -> None:
    hostile.script(insz=ANN)
    body = ask(hostile, ATTACK, ANN).json()
    assert "errors" not in body, body
    holder = body["data"]["gentParkingHolder"]
    assert holder["name"] is not None and holder["qualifications"]["totalCount"] == 5
    assert holder["childBenefits"][0]["child"]["givenName"] == "Lotte"


def test_a_subgraph_that_lies_about_whose_object_it_is_gains_nothing(
    hostile: HostileWorld, ann_secrets: set[str]
) -> None:
    """Ann's INSZ as the key, Bram's own under the gateway's internal keys: the representation
    the gateway would send is Ann's, so it is not sent, and the object is not Bram's."""
    hostile.script(insz=ANN, subject=BRAM, extra={"name": {"givenName": "x", "familyName": "y"}})
    response = ask(hostile, ATTACK, BRAM)
    for secret in ann_secrets:
        assert secret not in response.text
    body = response.json()
    assert body["data"]["gentParkingHolder"]["name"] is None
    assert ["gentParkingHolder", "name"] in unauthorized_paths(body)
    assert response.headers["x-subgraph-requests"] == "1"


@pytest.mark.parametrize(
    "query",
    [
        '{ gentParkingHolders(street: "Veldstraat") { insz name { familyName }'
        " tickets { reference } } }",
        '{ gentPermitParty(plate: "1") { ... on Citizen { name { familyName }'
        " qualifications { totalCount } } } }",
    ],
    ids=["list", "union"],
)
def test_lists_and_unions_of_references_are_checked_per_object(
    hostile: HostileWorld, ann_secrets: set[str], query: str
) -> None:
    hostile.script(insz=ANN)
    response = ask(hostile, query, BRAM)
    for secret in ann_secrets:
        assert secret not in response.text
    assert unauthorized_paths(response.json())
    assert response.headers["x-subgraph-requests"] == "1"


@pytest.mark.parametrize("caller", [None, BRAM], ids=["anonymous", "bram"])
def test_nobody_else_reads_a_citizen_at_any_assurance_level(
    hostile: HostileWorld, ann_secrets: set[str], caller: str | None
) -> None:
    hostile.script(insz=ANN)
    for acr in ("low", "substantial", "high"):
        response = ask(hostile, ATTACK, caller, acr=acr)
        for secret in ann_secrets:
            assert secret not in response.text
