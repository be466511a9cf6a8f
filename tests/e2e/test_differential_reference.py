"""The reference subgraphs through Rugzak and through the reference gateway (Hive Gateway, Rust
planner), same supergraph, same callers: the answers must be identical, data and error paths.

Hive Gateway as started here enforces no `@policy` (it has no policy plugin), so every caller
below may read everything it asks: what Rugzak refuses is tested in test_authorization_*.py.
It cannot mint the tokens the subgraphs demand, so it reaches them through a proxy that mints
them as Rugzak does (tests/e2e/token_proxy.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.callers import ANN_SUBSTANTIAL, ANONYMOUS, BRAM_SUBSTANTIAL, Caller
from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH, Stack
from tests.e2e.token_proxy import UPSTREAMS_ENV
from tests.federation.harness import comparable
from tests.oracles.hive import HiveGateway, hive_gateway
from tests.servers import start_uvicorn

TICKETS_CLERK = Caller(
    "tickets-clerk", staff=True, acr="substantial", scopes=frozenset({"tickets:read"}),
    purpose="ticketing",
)  # fmt: skip
CASES: list[tuple[str, str, dict[str, Any] | None, Caller]] = [
    ("profile-ann", PROFILE_QUERY, None, ANN_SUBSTANTIAL),
    ("profile-bram", PROFILE_QUERY, None, BRAM_SUBSTANTIAL),
    (
        "civil-servant",
        """query($insz: ID!) { citizen(insz: $insz) { insz name { familyName }
             tickets(status: [NEW, ACKNOWLEDGED, SCHEDULED]) { reference status } } }""",
        {"insz": ANN},
        TICKETS_CLERK,
    ),
    ("bad-insz", '{ citizen(insz: "12345678901") { insz tickets { id } } }', None, TICKETS_CLERK),
    ("unknown-insz", '{ citizen(insz: "85671012287") { insz } }', None, TICKETS_CLERK),
    (
        "paging-and-filters",
        """{ me { qualifications(first: 2, status: REGISTERED) {
               totalCount pageInfo { hasNextPage endCursor }
               edges { cursor node { id title institution { institutionNumber name } } } } } }""",
        None,
        ANN_SUBSTANTIAL,
    ),
    (
        "fragments-aliases-typename",
        """query P { __typename who: me { __typename ...Ids
               diplomas: qualifications { edges { node { ...Q } } } } }
           fragment Ids on Citizen { insz key: insz }
           fragment Q on Qualification { __typename title place: institution {
               town: municipality { __typename name province } } }""",
        None,
        BRAM_SUBSTANTIAL,
    ),
    (
        "municipalities",
        """{ municipalities { nisCode name openTicketCount } gent: municipality(nisCode: "44021")
             { name province } nowhere: municipality(nisCode: "00000") { name } }""",
        None,
        ANONYMOUS,
    ),
    (
        "institution-entity-hop",
        """{ institution(institutionNumber: "xx") { name } }""",
        None,
        ANONYMOUS,
    ),
]


@pytest.fixture(scope="module")
def hive(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HiveGateway]:
    env = {**stack.env, UPSTREAMS_ENV: json.dumps(stack.subgraph_urls())}
    with start_uvicorn("tests.e2e.token_proxy:app", "token proxy", env) as proxy:
        sdl = SUPERGRAPH.read_text(encoding="utf-8")
        for name in stack.subgraphs:
            url = f"{proxy.url}/{name}/graphql"
            sdl = re.sub(rf'(name: "{name}", url: ")[^"]+', rf"\g<1>{url}", sdl)
        path: Path = tmp_path_factory.mktemp("hive") / "supergraph.graphql"
        path.write_text(sdl, encoding="utf-8")
        with hive_gateway(path) as gateway:
            yield gateway


@pytest.mark.parametrize(("name", "query", "variables", "caller"), CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_the_reference_gateway(
    stack: Stack,
    hive: HiveGateway,
    name: str,
    query: str,
    variables: dict[str, Any] | None,
    caller: Caller,
) -> None:
    headers = caller.headers(stack.issuer)
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    ours = httpx.post(stack.graphql_url, json=body, headers=headers, timeout=30).json()
    theirs = hive.query(query, variables, headers)
    assert comparable(ours) == comparable(theirs)
