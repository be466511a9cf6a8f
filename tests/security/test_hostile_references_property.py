"""A property test (issue 13): a registered subgraph returns Citizen references with any INSZ,
from any of its fields, with `__typename` lies, lies under the gateway's internal keys and extra
fields; random operations (hypothesis-graphql, over the live API schema, from that subgraph's
root fields) from random callers. No answer ever holds a value of another citizen.

A fixed seed in `make test`; RUGZAK_DEEP=1 (or `pytest --deep`) runs many more examples.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from graphql import build_client_schema, get_introspection_query
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from tests.e2e.stack import ANN, BRAM
from tests.security.conftest import HostileWorld
from tests.security.test_cross_citizen_reads import secrets_of

DEEP = os.environ.get("RUGZAK_DEEP") == "1"
OTHER = "00000000097"  # a valid INSZ nobody in the stores has

# (name, INSZ or None, staff, acr)
CALLERS = [
    ("ann-high", ANN, False, "high"),
    ("bram-high", BRAM, False, "high"),
    ("bram-substantial", BRAM, False, "substantial"),
    ("anonymous", None, False, None),
    ("clerk-without-purpose", None, True, "high"),
]


def token(world: HostileWorld, caller: tuple[str, str | None, bool, str | None]) -> str | None:
    name, insz, staff, acr = caller
    if insz is None and not staff:
        return None
    claims: dict[str, Any] = {"acr": acr}
    if staff:
        claims |= {"roles": ["staff"], "org": "44021"}
    scopes = ["allowances:read", "education:read", "tickets:read"] if staff else []
    return world.stack.issuer.mint(
        subject=f"test-{name}", insz=insz, scopes=scopes, extra_claims=claims
    )


@pytest.fixture(scope="module")
def secrets(hostile: HostileWorld) -> dict[str, set[str]]:
    ann, bram = secrets_of(hostile, ANN), secrets_of(hostile, BRAM)
    return {ANN: ann - bram, BRAM: bram - ann}


@pytest.fixture(scope="module")
def api_schema(hostile: HostileWorld) -> Any:
    staff = token(hostile, CALLERS[-1])
    response = httpx.post(
        hostile.stack.graphql_url,
        json={"query": get_introspection_query()},
        headers={"authorization": f"Bearer {staff}"},
        timeout=30.0,
    )
    return build_client_schema(response.json()["data"])


def test_no_answer_holds_another_citizens_values(
    hostile: HostileWorld, secrets: dict[str, set[str]], api_schema: Any
) -> None:
    roots = ["gentParkingHolder", "gentParkingHolders", "gentPermitParty"]
    scripts = st.fixed_dictionaries(
        {
            "insz": st.sampled_from([ANN, BRAM, OTHER]),
            "subject": st.sampled_from([None, ANN, BRAM]),
            "typename": st.sampled_from(["Citizen", "Citizen", "Company", "Ticket"]),
            "extra": st.sampled_from([None, {"insz": BRAM}, {"name": {"givenName": "x"}}]),
        }
    )
    checked = {"examples": 0, "answered": 0}

    @seed(1313)
    @settings(
        max_examples=400 if DEEP else 40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(query=queries(api_schema, fields=roots), caller=st.sampled_from(CALLERS), script=scripts)
    def check(
        query: str, caller: tuple[str, str | None, bool, str | None], script: dict[str, Any]
    ) -> None:
        hostile.script(**script)
        bearer = token(hostile, caller)
        headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
        response = httpx.post(
            hostile.stack.graphql_url, json={"query": query}, headers=headers, timeout=30.0
        )
        assert response.status_code == 200, response.text
        checked["examples"] += 1
        checked["answered"] += response.json().get("data") is not None
        for victim, values in secrets.items():
            if victim == caller[1]:
                continue
            leaked = [v for v in values if v in response.text]
            assert not leaked, (caller[0], script, query, leaked)

    check()
    assert checked["examples"] >= 20 and checked["answered"] >= 10, checked
