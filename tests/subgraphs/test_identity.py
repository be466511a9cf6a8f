"""`me` comes from the verified token's `rrn` claim; `citizen(insz:)` checks the INSZ."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from auth.dev_issuer import DevIssuer
from resolvers.common.insz import make_insz
from resolvers.common.population import ANN_INSZ, BRAM_INSZ, population
from tests.gateway_issuer import GatewayIssuer
from tests.servers import start_uvicorn
from tests.subgraphs.conftest import APPS, NO_TOKEN, SUBSTANTIAL, Client

ME = "{ me { insz } }"
UNKNOWN_VALID_INSZ = make_insz(date(1930, 5, 17), 611)


def test_me_without_a_token_is_null(subgraph: Client) -> None:
    assert subgraph.data(ME, token=None) == {"me": None}


def test_me_with_a_token_is_the_caller(subgraph: Client, issuer: GatewayIssuer) -> None:
    token = issuer.mint(subject="opaque-subject-ann", insz=ANN_INSZ)
    assert subgraph.data(ME, token=token) == {"me": {"insz": ANN_INSZ}}
    token = issuer.mint(subject="opaque-subject-bram", insz=BRAM_INSZ)
    assert subgraph.data(ME, token=token) == {"me": {"insz": BRAM_INSZ}}


def test_me_shows_names_where_the_subgraph_has_them(
    education: Client, allowances: Client, issuer: GatewayIssuer
) -> None:
    token = issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims=SUBSTANTIAL)
    query = "{ me { name { givenName familyName } } }"
    expected = {"me": {"name": {"givenName": "Ann", "familyName": "Verstraete"}}}
    assert education.data(query, token=token) == expected
    assert allowances.data(query, token=token) == expected


def test_me_is_null_for_a_token_without_a_known_citizen(
    subgraph: Client, issuer: GatewayIssuer
) -> None:
    civil_servant = issuer.mint(subject="civil-servant-7", scopes=["citizen:read"])
    assert subgraph.data(ME, token=civil_servant) == {"me": None}
    stranger = issuer.mint(subject="someone", insz=UNKNOWN_VALID_INSZ)
    assert subgraph.data(ME, token=stranger) == {"me": None}


def test_only_the_gateways_token_is_taken(
    subgraph: Client, issuer: GatewayIssuer, tmp_path: Path
) -> None:
    """Anything but a token the gateway minted for this subgraph is a 401 with a GraphQL error
    body, its code, and the precise reason; nothing of the store is read."""
    stranger = GatewayIssuer(tmp_path / "another-gateway")  # same issuer id, other key
    client = DevIssuer.generate()  # a citizen's own token, as the gateway received it
    cases = {
        "INVALID_GATEWAY_TOKEN": {
            "UNKNOWN_SIGNING_KEY": stranger.mint(subject="mallory", insz=ANN_INSZ),
            "MALFORMED_TOKEN": "not.a.jwt",
            "WRONG_TOKEN_TYPE": client.mint(subject="s-ann", insz=ANN_INSZ),
            "INVALID_AUDIENCE": issuer.mint(subject="s-ann", insz=ANN_INSZ, audience="ticketing"),
            "TOKEN_EXPIRED": issuer.mint(subject="s-ann", insz=ANN_INSZ, ttl=-60),
        },
    }
    for reason, token in cases["INVALID_GATEWAY_TOKEN"].items():
        response = subgraph.post(ME, token=token)
        assert response.status_code == 401, (reason, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["errors"][0]["extensions"] == {
            "code": "INVALID_GATEWAY_TOKEN",
            "reason": reason,
        }
        assert body["errors"][0]["message"] and "data" not in body
        assert int(response.headers.get("x-store-queries", "0")) == 0
    response = subgraph.post(ME, token=NO_TOKEN)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "GATEWAY_TOKEN_REQUIRED"}


def test_the_sdl_is_read_without_a_token(subgraph: Client) -> None:
    """What the registry and `rugzak compose` ask, exactly (subgraphs/common/service_sdl.py),
    with no credentials; anything more needs the gateway's token."""
    response = subgraph.post("{ _service { sdl } }", token=NO_TOKEN)
    assert response.status_code == 200 and "type Citizen" in response.text, response.text
    for query in (
        "{ _service { sdl } me { insz } }",
        "query Sdl { __typename _service { sdl } }",
        "{ _service { sdl } } query Other { me { insz } }",
        "{ ...F } fragment F on Query { _service { sdl } }",
        '{ _entities(representations: [{__typename: "Citizen", insz: "85671012385"}]) '
        "{ __typename } }",
        "mutation { __typename }",
        "{ _service @include(if: true) { sdl } }",
        "{ _service { sdl }",
    ):
        response = subgraph.post(query, token=NO_TOKEN)
        assert response.status_code == 401, query
        assert response.json()["errors"][0]["extensions"]["code"] == "GATEWAY_TOKEN_REQUIRED"
    over_get = subgraph.http.get("/graphql", params={"query": "{ _service { sdl } }"})
    assert over_get.status_code == 401


def test_citizen_by_insz(subgraph: Client) -> None:
    query = "query($insz: ID!) { citizen(insz: $insz) { insz } }"
    assert subgraph.data(query, {"insz": BRAM_INSZ}) == {"citizen": {"insz": BRAM_INSZ}}
    someone = population()[500].insz
    assert subgraph.data(query, {"insz": someone}) == {"citizen": {"insz": someone}}
    assert subgraph.data(query, {"insz": UNKNOWN_VALID_INSZ}) == {"citizen": None}


def test_a_citizen_may_look_up_only_themselves(subgraph: Client, issuer: GatewayIssuer) -> None:
    query = "query($insz: ID!) { citizen(insz: $insz) { insz } }"
    ann = issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims=SUBSTANTIAL)
    assert subgraph.data(query, {"insz": ANN_INSZ}, token=ann) == {"citizen": {"insz": ANN_INSZ}}
    for token in (ann, None):
        data, errors = subgraph.errors(query, {"insz": BRAM_INSZ}, token=token)
        assert data == {"citizen": None}
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("bad", ["85671012384", "03621445639", "8567101238", "85.67.10-123.85"])
def test_citizen_with_a_bad_insz_is_bad_user_input(subgraph: Client, bad: str) -> None:
    data, errors = subgraph.errors("query($i: ID!) { citizen(insz: $i) { insz } }", {"i": bad})
    assert data == {"citizen": None}
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["path"] == ["citizen"]


@pytest.fixture(scope="module")
def unverified_education(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The education subgraph started without any token verifier configured."""
    data_dir: Path = tmp_path_factory.mktemp("unverified")
    env = {"RUGZAK_DATA_DIR": str(data_dir), "RUGZAK_GATEWAY_JWKS_URL": ""}
    server = start_uvicorn(APPS["education"], "education-unverified", env=env)
    client = Client(server, data_dir, clerk="")
    try:
        yield client
    finally:
        client.close()
        server.stop()


def test_without_a_verifier_every_request_is_anonymous(
    unverified_education: Client, issuer: GatewayIssuer
) -> None:
    token = issuer.mint(subject="s-ann", insz=ANN_INSZ, extra_claims=SUBSTANTIAL)
    assert unverified_education.data(ME, token=token) == {"me": None}
    assert (unverified_education.data_dir / "education.sqlite3").exists()
