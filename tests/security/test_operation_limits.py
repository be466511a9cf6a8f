"""Issue 13, findings 5 and 6 over real HTTP: one request must not stall everyone. Each hostile
operation is refused with the code of the limit it breaks, before the work it would cause,
while /health keeps answering; operations within the limits are answered. Per-client limits
apply to the client a token proves, never to one a header names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, Stack, reference_stack
from tests.security import attacks

# a client allowed more: bytes enough for the attacks to reach the token limit, more aliases;
# and one allowed less cost
LIMITS = {
    "clients": {
        "bulk-app": {"max_bytes": 1_000_000, "max_aliases": 100, "max_root_fields": 100},
        "tight-app": {"max_cost": 50},
    }
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("limits")
    with reference_stack(tmp, "--operation-limits", json.dumps(LIMITS)) as running:
        yield running


def post(
    stack: Stack,
    query: str,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if token:
        sent["authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return httpx.post(stack.graphql_url, json=body, headers=sent, timeout=60.0)


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert "data" not in body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    return error


def client_token(stack: Stack, client: str) -> str:
    return stack.issuer.mint(subject=f"app-{client}", insz=ANN, acr="substantial", client_id=client)


def test_typename_include_filling_a_request_is_refused_before_it_is_parsed(stack: Stack) -> None:
    query = attacks.typename_include()
    assert 900_000 < len(query) < 1_000_000
    refused(post(stack, query), 413, "QUERY_TOO_LARGE")
    # a client allowed a megabyte: the parser stops at the token limit, no AST is built
    error = refused(post(stack, query, client_token(stack, "bulk-app")), 400, "MAX_TOKENS_LIMIT")
    assert error["extensions"]["limit"] == 2000


def test_one_field_50000_times_is_refused(stack: Stack) -> None:
    refused(post(stack, attacks.same_field()), 413, "QUERY_TOO_LARGE")
    bulk = client_token(stack, "bulk-app")
    refused(post(stack, attacks.same_field(), bulk), 400, "MAX_TOKENS_LIMIT")
    # within the size limits, a field repeated beyond the limit is refused before validation
    many = "{ municipalities { " + "name " * 21 + "} }"
    error = refused(post(stack, many), 400, "MAX_REPEATED_FIELDS_LIMIT")
    assert error["extensions"]["measured"] == 21
    fine = post(stack, "{ municipalities { " + "name " * 20 + "} }")
    assert fine.status_code == 200 and len(fine.json()["data"]["municipalities"]) > 50


def test_10000_aliases_are_refused(stack: Stack) -> None:
    refused(post(stack, attacks.aliases()), 413, "QUERY_TOO_LARGE")
    refused(
        post(stack, attacks.aliases(), client_token(stack, "bulk-app")), 400, "MAX_TOKENS_LIMIT"
    )
    nested = '{ municipality(nisCode: "44021") { %s } }'
    over = nested % " ".join(f"a{i}: name" for i in range(31))
    assert refused(post(stack, over), 400, "MAX_ALIASES_LIMIT")["extensions"]["measured"] == 31
    within = post(stack, nested % " ".join(f"a{i}: name" for i in range(30)))
    assert within.json()["data"]["municipality"]["a29"] == "Gent"


def test_fragments_multiplying_aliases_are_refused_before_validation(stack: Stack) -> None:
    query = attacks.multiplied_aliases()
    assert len(query) < 3_000
    error = refused(post(stack, query), 400, "MAX_FIELDS_LIMIT")
    assert error["extensions"] == {"code": "MAX_FIELDS_LIMIT", "limit": 1000, "measured": 27930}
    # the same shape, small enough (39 aliases: for a client allowed 100), is answered
    small = post(stack, attacks.multiplied_aliases(3), client_token(stack, "bulk-app"))
    assert small.status_code == 200, small.text
    assert small.json()["data"]["a0"]["b2"]["c1"] is not None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ __schema { types { name " + "ofType { name " * 20 + "}" * 20 + " } } }",
         "MAX_DEPTH_LIMIT"),
        ("{ " + " ".join(f'm{i}: municipality(nisCode: "44021") {{ name }}' for i in range(21))
         + " }", "MAX_ROOT_FIELDS_LIMIT"),
        ("{ municipalities { " + "name @include(if: true) " * 51 + "} }",
         "MAX_DIRECTIVES_LIMIT"),
        ("{ municipalities { " + " ".join(f"...F{i}" for i in range(65)) + " } }\n"
         + "\n".join(f"fragment F{i} on Municipality {{ name }}" for i in range(65)),
         "MAX_FRAGMENTS_LIMIT"),
    ],
    ids=["depth", "root-fields", "directives", "fragments"],
)  # fmt: skip
def test_each_shape_limit_has_its_code(stack: Stack, query: str, code: str) -> None:
    refused(post(stack, query), 400, code)


def test_health_keeps_answering_while_attacks_are_refused(stack: Stack) -> None:
    hostile = [
        attacks.typename_include(),
        attacks.same_field(),
        attacks.aliases(),
        attacks.multiplied_aliases(),
    ]
    bulk = client_token(stack, "bulk-app")

    def attack(query: str) -> int:
        codes = set()
        for _ in range(3):
            response = post(stack, query, bulk)
            codes.add(response.json()["errors"][0]["extensions"]["code"])
        assert codes <= {"MAX_TOKENS_LIMIT", "MAX_FIELDS_LIMIT"}, codes
        return len(codes)

    with ThreadPoolExecutor(len(hostile)) as pool:
        running = [pool.submit(attack, query) for query in hostile]
        health = []
        while not all(f.done() for f in running):
            health.append(httpx.get(stack.gateway.url + "/health", timeout=30.0).status_code)
        for future in running:
            future.result()
    assert health and set(health) == {200}
    profile = post(stack, "{ me { name { givenName } } }", stack.token(ANN))
    assert profile.json() == {"data": {"me": {"name": {"givenName": "Ann"}}}}


def test_per_client_limits_apply_to_the_client_a_token_proves(stack: Stack) -> None:
    aliases = " ".join(f"a{i}: name" for i in range(50))
    query = f'{{ municipality(nisCode: "44021") {{ {aliases} }} }}'
    admitted = post(stack, query, client_token(stack, "bulk-app"))
    assert admitted.json()["data"]["municipality"]["a49"] == "Gent"
    refused(post(stack, query, client_token(stack, "other-app")), 400, "MAX_ALIASES_LIMIT")
    refused(post(stack, query, stack.token(ANN)), 400, "MAX_ALIASES_LIMIT")
    # a header names a client but proves nothing: the defaults apply
    named = post(stack, query, headers={"apollographql-client-name": "bulk-app"})
    refused(named, 400, "MAX_ALIASES_LIMIT")


def test_the_cost_extension_and_cost_limit(stack: Stack) -> None:
    query = "{ municipalities { name } }"  # a list of the default size (10): cost 10
    asked = post(stack, query, headers={"x-rugzak-cost": "true"})
    assert asked.json()["extensions"]["cost"] == {"estimated": 10, "limit": 5000}
    assert "extensions" not in post(stack, query).json()
    profile = (Path(__file__).parents[2] / "examples" / "profile.graphql").read_text()
    answered = post(stack, profile, stack.token(ANN), {"x-rugzak-cost": "1"})
    assert answered.json()["data"]["me"]["name"]["givenName"] == "Ann"
    assert answered.json()["extensions"]["cost"]["estimated"] == 513
    tight = client_token(stack, "tight-app")
    error = refused(post(stack, profile, tight, {"x-rugzak-cost": "true"}), 400,
                    "COST_LIMIT_EXCEEDED")  # fmt: skip
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "limit": 50, "measured": 513}
    over = post(stack, profile, tight, {"x-rugzak-cost": "true"}).json()
    assert over["extensions"]["cost"] == {"estimated": 513, "limit": 50}
    # without @listSize in the supergraph, a connection is one object whatever `first` says
    with_variable = "query($n: Int!) { me { qualifications(first: $n) { totalCount } } }"
    cheap = post(stack, with_variable, tight, {"x-rugzak-cost": "true"}, {"n": 2})
    assert cheap.json()["extensions"]["cost"]["estimated"] == 2
