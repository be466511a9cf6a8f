"""Issue 13, finding 9: what the gateway showed anonymous callers, and what browsers were allowed
to do with its pages. Each check runs against real servers over loopback.

- introspection (__schema, __type) is refused to anonymous callers by default;
- /metrics and the registry's status need a token with a scope, or the admin listener, and the
  registry's status names no file path; /ready's details likewise (its status is anyone's);
- HTML pages carry a Content-Security-Policy (no framing), nosniff and a referrer policy; JSON
  answers carry nosniff;
- cross-origin access only for configured origins."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import ANN, Stack, start_gateway
from tests.security.helpers import bearer
from tests.servers import Server, free_port

HTML = {"accept": "text/html"}
INTROSPECTION = '{ __schema { queryType { name } } __type(name: "Citizen") { name } }'


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


# -- introspection --------------------------------------------------------------------------


def test_anonymous_introspection_is_refused_by_default(stack: Stack) -> None:
    for query in ("{ __schema { types { name } } }", '{ __type(name: "Citizen") { name } }'):
        response = stack.query(query)
        assert response.status_code == 403, response.text
        assert code_of(response) == "INTROSPECTION_DISABLED"
        assert "data" not in response.json()
    # hidden in a fragment, or by GET: the same
    fragment = "query { ...F } fragment F on Query { __schema { types { name } } }"
    assert code_of(stack.query(fragment)) == "INTROSPECTION_DISABLED"
    response = httpx.get(stack.graphql_url, params={"query": INTROSPECTION}, timeout=10)
    assert response.status_code == 403 and code_of(response) == "INTROSPECTION_DISABLED"
    # __typename is no introspection of the schema
    assert stack.query("{ __typename }").json() == {"data": {"__typename": "Query"}}


def test_callers_with_a_token_may_introspect(stack: Stack) -> None:
    body = stack.query(INTROSPECTION, insz=ANN).json()
    assert body == {
        "data": {"__schema": {"queryType": {"name": "Query"}}, "__type": {"name": "Citizen"}}
    }


@pytest.mark.parametrize(
    ("setting", "anonymous", "authenticated"),
    [("all", 200, 200), ("none", 403, 403), ("authenticated", 403, 200)],
)
def test_introspection_setting(
    stack: Stack, setting: str, anonymous: int, authenticated: int
) -> None:
    with start_gateway(stack.env, stack.subgraph_urls(), "--introspection", setting) as gateway:
        url = gateway.url + "/graphql"
        assert stack.query(INTROSPECTION, url=url).status_code == anonymous
        assert stack.query(INTROSPECTION, url=url, insz=ANN).status_code == authenticated


# -- /metrics and the registry's status ---------------------------------------------------


@dataclass
class RegistryGateway:
    server: Server
    store: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def registry_gateway(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryGateway]:
    """A gateway with a registry in a SQLite file, in a directory whose name must not show."""
    store = tmp_path_factory.mktemp("secret-place") / "registry.sqlite3"
    flags = ("--registry", f"sqlite:{store}")
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        yield RegistryGateway(gateway, store)


def test_metrics_need_the_metrics_read_scope(stack: Stack) -> None:
    url = stack.gateway.url + "/metrics"
    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code == 401 and code_of(anonymous) == "UNAUTHENTICATED"
    assert "rugzak_requests" not in anonymous.text
    citizen = httpx.get(url, headers=bearer(stack.issuer, "ann", insz=ANN), timeout=10)
    assert citizen.status_code == 403 and code_of(citizen) == "FORBIDDEN"
    forged = httpx.get(url, headers={"authorization": "Bearer not.a.token"}, timeout=10)
    assert forged.status_code == 401
    monitoring = bearer(stack.issuer, "prometheus", scopes=["metrics:read"])
    allowed = httpx.get(url, headers=monitoring, timeout=10)
    assert allowed.status_code == 200 and "rugzak_requests_total" in allowed.text


def test_ready_tells_anyone_its_status_and_only_operators_its_details(stack: Stack) -> None:
    url = stack.gateway.url + "/ready"
    monitoring = bearer(stack.issuer, "prometheus", scopes=["metrics:read"])
    detailed = httpx.get(url, headers=monitoring, timeout=10)
    assert detailed.status_code == 200
    assert set(detailed.json()["subgraphs"]) == set(stack.subgraph_urls())
    callers = {
        "anonymous": {},
        "a citizen": bearer(stack.issuer, "ann", insz=ANN),
        "a forged token": {"authorization": "Bearer not.a.token"},
    }
    for who, headers in callers.items():
        brief = httpx.get(url, headers=headers, timeout=10)
        # the status code alone tells an orchestrator ready or not; the body only the status
        assert brief.status_code == 200, who
        assert brief.json() == {"status": detailed.json()["status"]}, who
        assert not any(name in brief.text for name in stack.subgraph_urls()), who


def test_the_registry_status_needs_a_registry_scope_and_names_no_path(
    stack: Stack, registry_gateway: RegistryGateway
) -> None:
    url = registry_gateway.url + "/registry"
    store = registry_gateway.store
    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code == 401, anonymous.text
    assert str(store.parent) not in anonymous.text
    citizen = httpx.get(url, headers=bearer(stack.issuer, "ann", insz=ANN), timeout=10)
    assert citizen.status_code == 403
    reader = bearer(stack.issuer, "ops", scopes=["registry:read"])
    status = httpx.get(url, headers=reader, timeout=10)
    assert status.status_code == 200
    assert status.json()["backend"] == "sqlite"
    assert "secret-place" not in status.text and "/" not in status.json()["backend"]


def test_the_admin_listener_serves_operators_without_a_token(stack: Stack, tmp_path: Path) -> None:
    store = tmp_path / "secret-place" / "registry.sqlite3"
    store.parent.mkdir()
    port = free_port()
    flags = ("--registry", f"sqlite:{store}", "--admin-port", str(port))
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        admin = f"http://127.0.0.1:{port}"
        metrics = httpx.get(admin + "/metrics", timeout=10)
        assert metrics.status_code == 200 and "rugzak_requests_total" in metrics.text
        assert "secret-place" not in metrics.text
        status = httpx.get(admin + "/registry", timeout=10)
        assert status.status_code == 200 and status.json()["backend"] == "sqlite"
        assert "secret-place" not in status.text
        assert httpx.get(admin + "/health", timeout=10).json()["status"] == "ok"
        assert set(httpx.get(admin + "/ready", timeout=10).json()["subgraphs"]) == set(
            stack.subgraph_urls()
        )
        # and nothing else: no GraphQL, no registry changes, no other registry reads
        query = {"query": "{ __typename }"}
        assert httpx.post(admin + "/graphql", json=query, timeout=10).status_code == 404
        assert httpx.get(admin + "/registry/subgraphs", timeout=10).status_code == 404
        assert httpx.post(admin + "/registry", timeout=10).status_code == 404
        # the public listener still wants a token
        assert httpx.get(gateway.url + "/metrics", timeout=10).status_code == 401
        assert httpx.get(gateway.url + "/registry", timeout=10).status_code == 401
        assert "subgraphs" not in httpx.get(gateway.url + "/ready", timeout=10).json()


# -- headers on pages and answers ---------------------------------------------------------


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    }


def check_page_headers(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = _policy(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    # scripts: this origin's files and the page's own inline script, by hash; nothing else
    scripts = policy["script-src"]
    assert scripts[0] == "'self'"
    assert set(scripts[1:]) == _inline_script_hashes(response.text)
    assert len(scripts) > 1
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    for values in policy.values():
        assert not any(v.startswith(("http:", "https:", "*")) for v in values), policy


def test_graphiql_page_headers(stack: Stack) -> None:
    page = httpx.get(stack.graphql_url, headers=HTML, timeout=10)
    assert "GraphiQL" in page.text
    check_page_headers(page)
    # its assets come from this origin and are never sniffed into something else
    asset = httpx.get(stack.gateway.url + "/graphql/assets/graphiql.min.js", timeout=10)
    assert asset.headers["x-content-type-options"] == "nosniff"


def test_explorer_page_headers(stack: Stack, tmp_path: Path) -> None:
    env = {**stack.env, "RUGZAK_GRAPHIQL_DIR": str(tmp_path)}  # no GraphiQL: the explorer
    with start_gateway(env, stack.subgraph_urls()) as gateway:
        page = httpx.get(gateway.url + "/graphql", headers=HTML, timeout=10)
        assert "Rugzak explorer" in page.text
        check_page_headers(page)


def test_json_answers_are_not_sniffed(stack: Stack) -> None:
    for response in (
        stack.query("{ __typename }"),
        stack.query("{ nonsense }"),
        httpx.post(stack.graphql_url, content=b"{not json", timeout=10),
        httpx.get(stack.gateway.url + "/health", timeout=10),
        httpx.get(stack.gateway.url + "/metrics", timeout=10),
        httpx.get(stack.gateway.url + "/no/such/page", timeout=10),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url


# -- CORS ------------------------------------------------------------------------------------

APP = "https://app.example"
EVIL = "https://evil.example"


def preflight(
    url: str, origin: str, headers: str = "authorization, content-type"
) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
        },
        timeout=10,
    )


def test_no_cross_origin_access_by_default(stack: Stack) -> None:
    refused = preflight(stack.graphql_url, APP)
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers
    answer = httpx.post(
        stack.graphql_url, json={"query": "{ __typename }"}, headers={"origin": APP}, timeout=10
    )
    assert "access-control-allow-origin" not in answer.headers


def test_cors_allow_list(stack: Stack) -> None:
    flags = ("--cors-origin", APP)
    with start_gateway(stack.env, stack.subgraph_urls(), *flags) as gateway:
        url = gateway.url + "/graphql"
        allowed = preflight(url, APP)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == APP
        methods = {m.strip() for m in allowed.headers["access-control-allow-methods"].split(",")}
        assert methods == {"GET", "POST"}
        allowed_headers = allowed.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert "access-control-allow-credentials" not in allowed.headers

        other = preflight(url, EVIL)
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        odd_header = preflight(url, APP, headers="x-something-else")
        assert odd_header.status_code == 400

        ok = {"query": "{ __typename }"}
        answer = httpx.post(url, json=ok, headers={"origin": APP}, timeout=10)
        assert answer.headers["access-control-allow-origin"] == APP
        assert answer.json() == {"data": {"__typename": "Query"}}
        answer = httpx.post(url, json=ok, headers={"origin": EVIL}, timeout=10)
        assert "access-control-allow-origin" not in answer.headers
