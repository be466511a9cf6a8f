"""Citizen A never obtains citizen B's data, and civil servants read only what scope and purpose
allow: each attempt through the gateway (and around it) is a test, over real servers and tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from auth.principal import Principal
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter
from tests.e2e.callers import (
    ANN_HIGH,
    ANN_SUBSTANTIAL,
    ANONYMOUS,
    CHILD_BENEFIT_CLERK,
    CLERK_NO_PURPOSE,
    CLERK_NO_SCOPE,
    Caller,
)
from tests.e2e.stack import ANN, BRAM, Stack

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
BRAM_SECRETS = (BRAM, "Peeters")  # his INSZ and family name must never reach Ann


def ask(
    stack: Stack,
    caller: Caller,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    all_headers = {**caller.headers(stack.issuer), **(headers or {})}
    return httpx.post(stack.graphql_url, json=body, headers=all_headers, timeout=30.0)


def refused_paths(body: dict[str, Any]) -> list[list[Any]]:
    return [e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == UNAUTHORIZED]


def assert_nothing_of_bram(response: httpx.Response) -> None:
    for secret in BRAM_SECRETS:
        assert secret not in response.text, response.text


BRAM_FIELDS = "insz name { familyName } childBenefits { id } studyGrantApplications { id }"


ATTEMPTS = {
    "literal": ('{ citizen(insz: "BRAM") { FIELDS } }', None),
    "variable": ("query($who: ID!) { citizen(insz: $who) { FIELDS } }", {"who": BRAM}),
    "aliases": ('{ mine: citizen(insz: "ANN") { insz } theirs: citizen(insz: "BRAM") { FIELDS } }',
                None),
    "named-fragment": ('{ ...F } fragment F on Query { citizen(insz: "BRAM") { ... on Citizen '
                       "{ FIELDS } } }", None),
    "fragment-beside-me": ('{ me { insz } citizen(insz: "BRAM") { ...C } } '
                           "fragment C on Citizen { FIELDS }", None),
    "two-variables": ("query($a: ID!, $b: ID!) { a: citizen(insz: $a) { insz } "
                      "b: citizen(insz: $b) { FIELDS } }", {"a": ANN, "b": BRAM}),
}  # fmt: skip


@pytest.mark.parametrize(("query", "variables"), ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_a_citizen_never_reads_another_citizen(
    stack: Stack, query: str, variables: dict[str, Any] | None
) -> None:
    query = query.replace("BRAM", BRAM).replace("ANN", ANN).replace("FIELDS", BRAM_FIELDS)
    response = ask(stack, ANN_SUBSTANTIAL, query, variables)
    assert response.status_code == 200
    body = response.json()
    assert refused_paths(body), body
    assert_nothing_of_bram(response)


def test_an_insz_written_with_separators_is_the_same_citizen(stack: Stack) -> None:
    written = f"{BRAM[:2]}.{BRAM[2:4]}.{BRAM[4:6]}-{BRAM[6:9]}.{BRAM[9:]}"
    response = ask(stack, ANN_SUBSTANTIAL, f'{{ citizen(insz: "{written}") {{ insz }} }}')
    assert refused_paths(response.json()) == [["citizen"]]
    assert_nothing_of_bram(response)


def test_the_own_insz_is_allowed_through_citizen(stack: Stack) -> None:
    response = ask(
        stack, ANN_SUBSTANTIAL, f'{{ citizen(insz: "{ANN}") {{ insz name {{ givenName }} }} }}'
    )
    assert response.json() == {"data": {"citizen": {"insz": ANN, "name": {"givenName": "Ann"}}}}


def test_a_batch_of_operations_is_refused_not_run_unchecked(stack: Stack) -> None:
    batch = [{"query": f'{{ citizen(insz: "{BRAM}") {{ insz }} }}'}, {"query": "{ me { insz } }"}]
    response = httpx.post(
        stack.graphql_url,
        content=json.dumps(batch),
        headers={"content-type": "application/json", **ANN_SUBSTANTIAL.headers(stack.issuer)},
        timeout=30.0,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert_nothing_of_bram(response)


def test_entities_cannot_be_asked_through_the_gateway(stack: Stack) -> None:
    query = (
        '{ _entities(representations: [{__typename: "Citizen", insz: "BRAM"}])'
        " { ... on Citizen { childBenefits { id } } } }"
    ).replace("BRAM", BRAM)
    response = ask(stack, ANN_SUBSTANTIAL, query)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_nothing_of_bram(response)


def test_a_token_of_another_key_claiming_to_be_the_issuer_is_refused(
    stack: Stack, tmp_path: Path
) -> None:
    forger = DevIssuer.load_or_create(tmp_path)  # same issuer name and kid scheme, other key
    token = forger.mint(subject="x", insz=BRAM, extra_claims={"acr": "high"})
    response = httpx.post(
        stack.graphql_url,
        json={"query": "{ me { insz } }"},
        headers={"authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    assert response.status_code == 401
    assert_nothing_of_bram(response)


# Around the gateway: a subgraph answers only the token the gateway minted for it.

BRAM_QUERY = f'{{ citizen(insz: "{BRAM}") {{ insz name {{ familyName }} }} }}'
ANN_QUERY = f'{{ citizen(insz: "{ANN}") {{ insz }} }}'


def refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert "data" not in response.json()
    assert_nothing_of_bram(response)
    extensions: dict[str, Any] = response.json()["errors"][0]["extensions"]
    return extensions


def ann_headers(stack: Stack) -> dict[str, str]:
    return {"authorization": f"Bearer {ANN_SUBSTANTIAL.token(stack.issuer)}"}


ANN_PRINCIPAL = Principal(subject="test-ann", insz=ANN, acr="substantial", token="-")


@pytest.mark.parametrize("name", ["education", "allowances", "ticketing"])
def test_a_subgraph_refuses_a_direct_call_without_the_gateways_token(
    stack: Stack, name: str
) -> None:
    assert refusal(stack.subgraph_post(name, BRAM_QUERY)) == {"code": "GATEWAY_TOKEN_REQUIRED"}
    # the citizen's own token is not the gateway's, however valid at the gateway
    assert refusal(stack.subgraph_post(name, BRAM_QUERY, ann_headers(stack))) == {
        "code": "INVALID_GATEWAY_TOKEN",
        "reason": "WRONG_TOKEN_TYPE",
    }
    mixed = stack.subgraph_post(name, "{ _service { sdl } me { insz } }")
    assert refusal(mixed) == {"code": "GATEWAY_TOKEN_REQUIRED"}  # nothing beside the SDL
    url = stack.subgraphs[name].url
    over_get = httpx.get(f"{url}/graphql", params={"query": BRAM_QUERY}, timeout=30.0)
    assert refusal(over_get)["code"] == "GATEWAY_TOKEN_REQUIRED"
    assert httpx.get(f"{url}/health", timeout=30.0).json()["status"] == "ok"  # stays open
    sdl = stack.subgraph_post(name, "{ _service { sdl } }")  # what the registry reads
    assert sdl.status_code == 200 and "@key" in sdl.json()["data"]["_service"]["sdl"]


def test_a_token_minted_for_one_subgraph_is_refused_by_the_others(stack: Stack) -> None:
    for minted_for in stack.subgraphs:
        token = stack.gateway_token(minted_for, ANN_PRINCIPAL)
        for name in stack.subgraphs:
            response = stack.subgraph_post(name, ANN_QUERY, {"authorization": f"Bearer {token}"})
            if name == minted_for:
                assert response.status_code == 200, response.text
            else:
                assert refusal(response)["reason"] == "INVALID_AUDIENCE"


def test_a_gateway_token_is_no_client_token(stack: Stack) -> None:
    """What a subgraph received, replayed at the gateway."""
    token = stack.gateway_token("education", ANN_PRINCIPAL)
    response = httpx.post(
        stack.graphql_url,
        json={"query": "{ me { insz childBenefits { bankAccount } } }"},
        headers={"authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "WRONG_TOKEN_TYPE"
    assert ANN not in response.text


def test_a_gateway_token_of_another_key_or_expired_is_refused(stack: Stack, tmp_path: Path) -> None:
    other_keys = GatewayKeys.load_or_create(tmp_path / "not-the-gateways-keys")
    forged = SubgraphTokenMinter(other_keys).token(ANN_PRINCIPAL, "education", ALL_CLAIMS)
    expired = SubgraphTokenMinter(
        GatewayKeys.load_or_create(Path(stack.env["RUGZAK_GATEWAY_KEY_DIR"])),
        clock=lambda: time.time() - 120,
    ).token(ANN_PRINCIPAL, "education", ALL_CLAIMS)
    for token, reason in ((forged, "UNKNOWN_SIGNING_KEY"), (expired, "TOKEN_EXPIRED")):
        response = stack.subgraph_post("education", ANN_QUERY, {"authorization": f"Bearer {token}"})
        assert refusal(response) == {"code": "INVALID_GATEWAY_TOKEN", "reason": reason}


def test_even_the_gateways_token_for_ann_cannot_read_bram(stack: Stack) -> None:
    """Defence in depth: should a request reach a subgraph with a valid token of the gateway's
    for Ann, the subgraph still refuses another citizen's INSZ."""
    for name in stack.subgraphs:
        query = f'{{ citizen(insz: "{BRAM}") {{ insz }} }}'
        if name == "transparency":  # no root fields: Bram as an entity, his access log
            query = (
                f'{{ _entities(representations: [{{__typename: "Citizen", insz: "{BRAM}"}}]) '
                "{ ... on Citizen { accessLog { at purpose } } } }"
            )
        response = stack.subgraph_post(name, query, as_gateway=ANN_PRINCIPAL)
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert_nothing_of_bram(response)


def test_anonymous_callers_get_no_personal_data(stack: Stack) -> None:
    response = ask(stack, ANONYMOUS, f'{{ me {{ insz }} citizen(insz: "{ANN}") {{ insz }} }}')
    body = response.json()
    assert body["data"] == {"me": None, "citizen": None}
    assert refused_paths(body) == [["me"], ["citizen"]]


def test_bank_accounts_need_assurance_level_high(stack: Stack) -> None:
    query = "{ me { childBenefits { payingBody bankAccount } } }"
    substantial = ask(stack, ANN_SUBSTANTIAL, query).json()
    assert substantial["data"] == {"me": {"childBenefits": None}}  # bankAccount is String!
    assert refused_paths(substantial) == [["me", "childBenefits", 0, "bankAccount"]]
    high = ask(stack, ANN_HIGH, query).json()
    assert "errors" not in high, high
    assert high["data"]["me"]["childBenefits"][0]["bankAccount"].startswith("BE")


STAFF_VIEW = (
    f'{{ citizen(insz: "{ANN}") {{ insz name {{ familyName }} childBenefits {{ payingBody }}'
    " qualifications { totalCount } } }"
)


@pytest.mark.parametrize(
    "clerk", [CLERK_NO_SCOPE, CLERK_NO_PURPOSE], ids=["no-scope", "no-purpose"]
)
def test_a_civil_servant_without_scope_or_purpose_gets_null_and_the_rest(
    stack: Stack, clerk: Caller
) -> None:
    body = ask(stack, clerk, STAFF_VIEW).json()
    citizen = body["data"]["citizen"]
    assert citizen["insz"] == ANN
    assert citizen["childBenefits"] is None and citizen["qualifications"] is None
    refused = [["citizen", "childBenefits"], ["citizen", "qualifications"]]
    if clerk is CLERK_NO_PURPOSE:  # who reads without saying why reads no name either
        assert citizen["name"] is None
        refused.insert(0, ["citizen", "name"])
    else:
        assert citizen["name"] == {"familyName": "Verstraete"}
    assert refused_paths(body) == refused


def test_a_civil_servant_with_scope_and_purpose_reads_that_domain_only(stack: Stack) -> None:
    body = ask(stack, CHILD_BENEFIT_CLERK, STAFF_VIEW).json()
    assert body["data"]["citizen"]["childBenefits"] == [{"payingBody": "INFINO"}]
    assert refused_paths(body) == [["citizen", "qualifications"]]


def test_the_purpose_may_come_from_a_header_but_not_contradict_the_token(stack: Stack) -> None:
    stated = Caller(
        "clerk-header", staff=True, acr="substantial", scopes=frozenset({"allowances:read"})
    )
    body = ask(stack, stated, STAFF_VIEW, headers={"x-rugzak-purpose": "child-benefit"}).json()
    assert body["data"]["citizen"]["childBenefits"] == [{"payingBody": "INFINO"}]
    response = ask(
        stack, CHILD_BENEFIT_CLERK, STAFF_VIEW, headers={"x-rugzak-purpose": "education"}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
