"""Fixtures for the reference subgraph tests: real servers on 127.0.0.1, one per subgraph.

Each server runs in its own process with `RUGZAK_DATA_DIR` in a fresh temporary directory (so it
seeds its store on start) and trusts the gateway keys of tests/gateway_issuer.py (a file:// JWKS):
a test says who calls with a token as the gateway would mint it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway_issuer import GatewayIssuer
from tests.servers import Server, start_uvicorn

APPS = {
    "education": "subgraphs.education.app:app",
    "allowances": "subgraphs.allowances.app:app",
    "ticketing": "subgraphs.ticketing.app:app",
}


class _Clerk:
    """The default caller of test requests: a civil servant of Gent, who may look any citizen up
    and read the subgraph's personal fields (its read scope and a purpose of its domain)."""


CLERK = _Clerk()


class _NoToken:
    """No authorization header at all: a caller who went around the gateway."""


NO_TOKEN = _NoToken()
# a citizen signed in with eID or itsme: what reading personal fields takes
SUBSTANTIAL = {"acr": "substantial"}

# per subgraph: the scope and purpose its case handlers read personal fields with
CASE_HANDLING = {
    "education": ("education:read", "education"),
    "allowances": ("allowances:read", "child-benefit"),
    "ticketing": ("tickets:read", "ticketing"),
}


def clerk_token(issuer: GatewayIssuer, subgraph: str = "", purpose: str | None = None) -> str:
    scope, domain_purpose = CASE_HANDLING.get(subgraph, ("", None))
    claims: dict[str, Any] = {"roles": ["staff"], "acr": "substantial", "org": "44021"}
    if scope:
        claims["scope"] = scope
    if purpose or domain_purpose:
        claims["purpose"] = purpose or domain_purpose
    return issuer.mint(subject="test-clerk", ttl=24 * 3600, extra_claims=claims)


class Client:
    """Posts GraphQL operations to one subgraph server, as a civil servant unless told otherwise
    (`token=None`: an anonymous caller, whose request the gateway sends with a token that says
    nothing about them; `token=NO_TOKEN`: no token at all)."""

    def __init__(
        self,
        server: Server,
        data_dir: Path,
        clerk: str,
        clerk_for: Callable[[str], str] | None = None,
        anonymous: str = "",
    ) -> None:
        self.server = server
        self.data_dir = data_dir
        self.clerk = clerk
        self.clerk_for = clerk_for  # the clerk's token with another purpose
        self.anonymous = anonymous  # the gateway's token for a caller without one
        self.http = httpx.Client(base_url=server.url, timeout=10.0)

    def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | _Clerk | _NoToken | None = CLERK,
        headers: Mapping[str, str] | None = None,
        purpose: str | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if isinstance(token, _Clerk):
            token = self.clerk
            if purpose is not None:
                assert self.clerk_for is not None
                token = self.clerk_for(purpose)
        elif token is None:
            token = self.anonymous or None
        if isinstance(token, str):
            all_headers["authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        return self.http.post("/graphql", json=body, headers=all_headers)

    def data(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | _Clerk | None = CLERK,
        purpose: str | None = None,
    ) -> Any:
        """The `data` of a response that must have no errors (`purpose`: the clerk's)."""
        response = self.post(query, variables, token=token, purpose=purpose)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def errors(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | _Clerk | None = CLERK,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """(data, errors) of a response that must have errors."""
        response = self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert payload.get("errors"), payload
        return payload.get("data"), payload["errors"]

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> GatewayIssuer:
    return GatewayIssuer(tmp_path_factory.mktemp("gateway-keys"))


@pytest.fixture(scope="session")
def auth_env(issuer: GatewayIssuer) -> dict[str, str]:
    return issuer.env()


def _serve(
    name: str,
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str],
    issuer: GatewayIssuer,
) -> Iterator[Client]:
    data_dir = tmp_path_factory.mktemp(f"{name}-data")
    server = start_uvicorn(APPS[name], name, env={"RUGZAK_DATA_DIR": str(data_dir), **env})
    clerk = clerk_token(issuer, name)
    client = Client(
        server,
        data_dir,
        clerk,
        lambda purpose: clerk_token(issuer, name, purpose),
        anonymous=issuer.mint(),
    )
    try:
        yield client
    finally:
        client.close()
        server.stop()


@pytest.fixture(scope="session")
def education(
    tmp_path_factory: pytest.TempPathFactory, auth_env: dict[str, str], issuer: GatewayIssuer
) -> Iterator[Client]:
    yield from _serve("education", tmp_path_factory, auth_env, issuer)


@pytest.fixture(scope="session")
def allowances(
    tmp_path_factory: pytest.TempPathFactory, auth_env: dict[str, str], issuer: GatewayIssuer
) -> Iterator[Client]:
    yield from _serve("allowances", tmp_path_factory, auth_env, issuer)


@pytest.fixture(scope="session")
def ticketing(
    tmp_path_factory: pytest.TempPathFactory, auth_env: dict[str, str], issuer: GatewayIssuer
) -> Iterator[Client]:
    yield from _serve("ticketing", tmp_path_factory, auth_env, issuer)


@pytest.fixture(params=sorted(APPS))
def subgraph(request: pytest.FixtureRequest) -> Client:
    """Each of the three subgraph servers in turn."""
    client: Client = request.getfixturevalue(request.param)
    return client


def store_queries(response: httpx.Response) -> int:
    return int(response.headers["x-store-queries"])
