"""GraphiQL at GET /graphql for browsers: the page and its four assets, served from the locally
installed npm packages (never a CDN), and the explorer fallback when they are not installed."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.http.explorer import EXPLORER_HTML
from gateway.http.graphiql import ASSETS, DEFAULT_QUERY, graphiql_html, graphiql_routes
from tests.e2e.stack import ANN, Stack, start_gateway
from tests.servers import ROOT, Server, start_uvicorn

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MIN_BYTES = {  # well below the real sizes (react 18.3.1, react-dom 18.3.1, graphiql 3.9.0)
    "react.production.min.js": 5_000,
    "react-dom.production.min.js": 100_000,
    "graphiql.min.js": 500_000,
    "graphiql.min.css": 100_000,
}
OUTSIDE_THE_ALLOW_LIST = [
    "/graphql/assets",
    "/graphql/assets/",
    "/graphql/assets/graphiql.js",
    "/graphql/assets/graphiql.min.js.map",
    "/graphql/assets/GRAPHIQL.MIN.JS",
    "/graphql/assets/package.json",
    "/graphql/assets/graphiql/graphiql.min.js",
    "/graphql/assets/react/umd/react.production.min.js",
    "/graphql/assets/../../package.json",
    "/graphql/assets/../../../etc/passwd",
    "/graphql/assets/%2e%2e/%2e%2e/package.json",
    "/graphql/assets/..%2f..%2fpackage.json",
    "/graphql/assets/%2Fetc%2Fpasswd",
    "/graphql/assets//etc/passwd",
]

# The lead wires graphiql_routes()/graphiql_html() into gateway/http/app.py; until then the tests
# against the real gateway are skipped (they run, and must pass, as soon as app.py uses the module).
APP = ROOT / "gateway" / "http" / "app.py"
WIRED = "graphiql_html" in APP.read_text(encoding="utf-8")
needs_wiring = pytest.mark.skipif(not WIRED, reason="gateway/http/app.py does not serve GraphiQL")


# A stand-in for the gateway's wiring, served by uvicorn from this module (tests.servers).
async def _page(request: Request) -> Response:
    return HTMLResponse(graphiql_html("/graphql") or EXPLORER_HTML)


app = Starlette(routes=[Route("/graphql", _page, methods=["GET"]), *graphiql_routes()])


@pytest.fixture(scope="module")
def standin() -> Iterator[Server]:
    assert graphiql_html("/graphql") is not None, f"GraphiQL is not installed: `npm ci` in {ROOT}"
    with start_uvicorn(f"{__name__}:app", "graphiql stand-in", {"RUGZAK_GRAPHIQL_DIR": ""}) as s:
        yield s


@pytest.fixture(scope="module")
def standin_without_assets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    empty = tmp_path_factory.mktemp("no-node-modules")
    env = {"RUGZAK_GRAPHIQL_DIR": str(empty)}
    with start_uvicorn(f"{__name__}:app", "graphiql stand-in without assets", env) as s:
        yield s


def raw_get(base: str, path: str) -> int:
    """GET `path` exactly as written (httpx would normalize the dot segments away)."""
    netloc = urlsplit(base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def check_graphiql(base: str) -> None:
    page = httpx.get(base + "/graphql", headers=HTML, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "GraphiQL.createFetcher" in text and "isHeadersEditorEnabled: true" in text
    assert '"endpoint": "/graphql"' in text
    assert "Bearer \\u003ctoken from rugzak token --citizen INSZ\\u003e" in text
    assert "tickets { reference status }" in text
    assert not re.search(r"https?:|//[a-z]", text, re.IGNORECASE), "an off-site link in the page"
    links = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert sorted(urlsplit(link).path for link in links) == sorted(
        f"/graphql/assets/{name}" for name in ASSETS
    )
    for link in links:
        name = urlsplit(link).path.rsplit("/", 1)[1]
        asset = httpx.get(base + link, timeout=10)
        assert asset.status_code == 200, link
        expected = "text/css" if name.endswith(".css") else "text/javascript"
        assert asset.headers["content-type"].split(";")[0] == expected
        assert "max-age=31536000" in asset.headers["cache-control"]
        assert len(asset.content) >= MIN_BYTES[name]
        assert int(asset.headers["content-length"]) == len(asset.content)
    head = httpx.head(base + "/graphql/assets/graphiql.min.css", timeout=10)
    assert head.status_code == 200 and head.content == b""
    for path in OUTSIDE_THE_ALLOW_LIST:
        assert raw_get(base, path) == 404, path


def check_explorer(base: str) -> None:
    page = httpx.get(base + "/graphql", headers=HTML, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == EXPLORER_HTML
    for name in ASSETS:
        assert httpx.get(f"{base}/graphql/assets/{name}", timeout=10).status_code == 404


def test_the_npm_packages_ship_the_umd_builds() -> None:
    for relative, _ in ASSETS.values():
        assert (ROOT / "node_modules" / relative).stat().st_size > 5_000, relative


def test_no_page_without_the_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUGZAK_GRAPHIQL_DIR", str(tmp_path))
    assert graphiql_html("/graphql") is None


def test_the_endpoint_cannot_end_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUGZAK_GRAPHIQL_DIR", str(ROOT / "node_modules"))
    page = graphiql_html("/graphql</script><script>alert(1)//")
    assert page is not None
    assert page.count("</script>") == 4  # the three assets and the page's own script


def test_the_module_serves_graphiql_and_its_assets(standin: Server) -> None:
    check_graphiql(standin.url)


def test_the_module_falls_back_to_the_explorer(standin_without_assets: Server) -> None:
    check_explorer(standin_without_assets.url)


def test_the_default_query_runs_on_the_gateway(stack: Stack) -> None:
    response = stack.query(DEFAULT_QUERY, insz=ANN)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    me = body["data"]["me"]
    assert me["name"]["givenName"] and me["name"]["familyName"]
    assert me["qualifications"]["totalCount"] >= 0
    assert isinstance(me["tickets"], list)


@needs_wiring
def test_the_gateway_serves_graphiql_and_its_assets(stack: Stack) -> None:
    check_graphiql(stack.gateway.url)
    # the JSON API at the same path is unchanged
    response = httpx.get(stack.graphql_url, params={"query": "{ __typename }"}, timeout=10)
    assert response.json() == {"data": {"__typename": "Query"}}


@needs_wiring
def test_the_gateway_falls_back_to_the_explorer(stack: Stack, tmp_path: Path) -> None:
    env = {**stack.env, "RUGZAK_GRAPHIQL_DIR": str(tmp_path)}
    with start_gateway(env, stack.subgraph_urls()) as gateway:
        check_explorer(gateway.url)


def browser() -> str:
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if found is None:
        pytest.fail("no headless Chromium: run `make test-servers` (Debian's package)")
    return found


def render(url: str, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM once its scripts ran in headless Chromium, and what its console said."""
    result = subprocess.run(
        [
            browser(), "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom", url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


@needs_wiring
def test_graphiql_renders_under_its_content_security_policy(stack: Stack, tmp_path: Path) -> None:
    """A real browser enforces the page's policy: GraphiQL must still come up, and the console
    must report no blocked script, style, font or image."""
    page = httpx.get(stack.graphql_url, headers=HTML, timeout=10)
    assert "script-src 'self' 'sha256-" in page.headers["content-security-policy"]
    dom, console = render(stack.graphql_url, tmp_path / "profile")
    assert "graphiql-container" in dom and "graphiql-query-editor" in dom, dom[-2000:]
    assert "CodeMirror" in dom
    assert not [line for line in console if "Content Security Policy" in line], console
