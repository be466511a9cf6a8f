"""GraphiQL at GET /graphql for browsers, served by the gateway itself from npm packages installed
locally (`npm ci`: graphiql's UMD build, react and react-dom), so it works without internet access.

The assets are looked up in `node_modules` under the current directory, or in $RUGZAK_GRAPHIQL_DIR
(a directory laid out like node_modules). Only four files are ever served, each at a fixed route
under /graphql/assets/. When they are not installed, `graphiql_html` returns None and the gateway
falls back to its own small explorer (gateway/http/explorer.py).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

ASSETS_PATH = "/graphql/assets"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# the allow-list: URL name -> (path under node_modules, content type)
ASSETS: dict[str, tuple[str, str]] = {
    "react.production.min.js": ("react/umd/react.production.min.js", _JS),
    "react-dom.production.min.js": ("react-dom/umd/react-dom.production.min.js", _JS),
    "graphiql.min.js": ("graphiql/graphiql.min.js", _JS),
    "graphiql.min.css": ("graphiql/graphiql.min.css", _CSS),
}
# the page asks for each asset with ?v=<package version>, so a year of caching is safe
_CACHE_CONTROL = "public, max-age=31536000, immutable"

DEFAULT_QUERY = """\
# Your profile, from three subgraphs in one query.
# Put a token in Headers below, e.g. from
#   rugzak token --citizen 85671012385
query Profile {
  me {
    name { givenName familyName }
    qualifications { totalCount }
    tickets { reference status }
  }
}
"""
# Valid JSON (GraphiQL parses it): the page drops the authorization header while it still holds
# this placeholder, so the schema loads before a real token is pasted in.
DEFAULT_HEADERS = """\
{
  "authorization": "Bearer <token from rugzak token --citizen INSZ>"
}"""


def assets_dir() -> Path:
    """Where the npm packages are: $RUGZAK_GRAPHIQL_DIR, else ./node_modules (read per call)."""
    return Path(os.environ.get("RUGZAK_GRAPHIQL_DIR") or "node_modules")


def _asset_file(name: str) -> Path | None:
    path = assets_dir() / ASSETS[name][0]
    return path if path.is_file() else None


def _package_version(name: str) -> str:
    package = ASSETS[name][0].split("/", 1)[0]
    try:
        meta = json.loads((assets_dir() / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "0"
    version = meta.get("version") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else "0"


def _serve(name: str) -> Callable[[Request], Awaitable[Response]]:
    media_type = ASSETS[name][1]

    async def endpoint(request: Request) -> Response:
        path = _asset_file(name)
        if path is None:
            return PlainTextResponse("GraphiQL assets are not installed (npm ci)", 404)
        return FileResponse(path, media_type=media_type, headers={"cache-control": _CACHE_CONTROL})

    return endpoint


def graphiql_routes() -> list[Route]:
    """One GET (and HEAD) route per allow-listed asset; no path parameter, so no traversal."""
    return [
        Route(f"{ASSETS_PATH}/{name}", _serve(name), methods=["GET"], name=f"graphiql:{name}")
        for name in ASSETS
    ]


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no `</script>`, no `<!--`)."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_html(endpoint: str) -> str | None:
    """The GraphiQL page for `endpoint`, or None when the assets are not installed."""
    if any(_asset_file(name) is None for name in ASSETS):
        return None
    url = {name: html.escape(f"{ASSETS_PATH}/{name}?v={_package_version(name)}") for name in ASSETS}
    config = _script_json(
        {"endpoint": endpoint, "defaultQuery": DEFAULT_QUERY, "defaultHeaders": DEFAULT_HEADERS}
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rugzak · GraphiQL</title>
<link rel="stylesheet" href="{url["graphiql.min.css"]}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; overflow: hidden; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{url["react.production.min.js"]}"></script>
<script src="{url["react-dom.production.min.js"]}"></script>
<script src="{url["graphiql.min.js"]}"></script>
<script>
const config = {config};
const send = GraphiQL.createFetcher({{ url: config.endpoint }});
// Until a real token replaces the example's placeholder, send no authorization header at all.
const placeholder = (value) => /[<>]/.test(String(value));
const fetcher = (params, opts) => {{
  const headers = {{ ...((opts && opts.headers) || {{}}) }};
  for (const key of Object.keys(headers)) {{
    if (key.toLowerCase() === "authorization" && placeholder(headers[key])) delete headers[key];
  }}
  return send(params, {{ ...opts, headers }});
}};
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {{
    fetcher,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.defaultHeaders,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
  }}),
);
</script>
</body>
</html>
"""
