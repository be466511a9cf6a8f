"""Compose subgraph SDLs into a supergraph SDL with a reference composition library.

Until Rugzak composes on its own, and afterwards as the oracle its composition is checked against,
the composing is done by `@theguild/federation-composition` (MIT, The Guild; `composeServices`),
version 0.27.0 as pinned in package.json / package-lock.json (`npm ci` installs it), on the
machine's Node.js (20), through `tools/compose.mjs`. `composer_version()` reads the installed
version.

As a library:

    from tools.compose_supergraph import Subgraph, compose
    supergraph_sdl = compose([Subgraph("products", "http://127.0.0.1:4001/graphql", sdl), ...])

raises `CompositionError` (with `.errors`, each "CODE: message") when the subgraphs don't compose.

As a command:

    python -m tools.compose_supergraph NAME=URL_OR_FILE ... [-o OUT] [--routing-url NAME=URL]

Each source is an http(s) URL of a running subgraph (its `{ _service { sdl } }` is fetched, and
the URL is also the routing URL in the supergraph) or a path to a file of SDL (its routing URL is
given with `--routing-url NAME=URL`, else `http://127.0.0.1/NAME/graphql` as a placeholder).
Writes the supergraph to OUT, or to stdout; on composition errors prints them and exits 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_SCRIPT = ROOT / "tools" / "compose.mjs"
LIBRARY = "@theguild/federation-composition"
LIBRARY_DIR = ROOT / "node_modules" / "@theguild" / "federation-composition"
SERVICE_SDL_QUERY = "{ _service { sdl } }"


@dataclass(frozen=True)
class Subgraph:
    name: str
    url: str
    sdl: str


class CompositionError(Exception):
    """The subgraphs don't compose; `errors` holds one "CODE: message" per composition error."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("composition failed:\n" + "\n".join(self.errors))


def composer_version() -> str:
    """The installed version of the composition library."""
    package = json.loads((LIBRARY_DIR / "package.json").read_text())
    return str(package["version"])


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node (Node.js 20) is not on PATH; it runs the composition library")
    if not LIBRARY_DIR.is_dir():
        raise RuntimeError(f"{LIBRARY} is not installed: run `npm ci` in {ROOT}")
    return node


def compose(subgraphs: Sequence[Subgraph], timeout: float = 60.0) -> str:
    """The supergraph SDL of `subgraphs`, composed by the reference library."""
    payload = json.dumps([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in subgraphs])
    proc = subprocess.run(
        [_node(), str(COMPOSE_SCRIPT)],
        input=payload.encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode == 1:
        raise CompositionError([line for line in stderr.splitlines() if line.strip()])
    if proc.returncode != 0:
        raise RuntimeError(f"{COMPOSE_SCRIPT.name} exited with {proc.returncode}: {stderr}")
    return proc.stdout.decode()


def fetch_sdl(
    url: str,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> str:
    """A running subgraph's SDL, from `{ _service { sdl } }` (through `client` if given: tests
    fetching many keep one, as a new one costs an SSL context)."""
    post = client.post if client is not None else httpx.post
    response = post(url, json={"query": SERVICE_SDL_QUERY}, headers=headers, timeout=timeout)
    response.raise_for_status()
    body = response.json()
    try:
        sdl = body["data"]["_service"]["sdl"]
    except (KeyError, TypeError) as exc:
        raise RuntimeError(f"{url} gave no _service.sdl: {body}") from exc
    if not isinstance(sdl, str):
        raise RuntimeError(f"{url} gave no _service.sdl: {body}")
    return sdl


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def load_subgraph(name: str, source: str, routing_url: str | None = None) -> Subgraph:
    """A subgraph from a URL (fetching its SDL) or from a file of SDL."""
    if _is_url(source):
        return Subgraph(name, routing_url or source, fetch_sdl(source))
    return Subgraph(
        name, routing_url or f"http://127.0.0.1/{name}/graphql", Path(source).read_text()
    )


def _pairs(values: Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise SystemExit(f"expected {what} as NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.compose_supergraph",
        description=f"Compose subgraphs into a supergraph SDL with {LIBRARY}.",
    )
    parser.add_argument("sources", nargs="+", metavar="NAME=URL_OR_FILE")
    parser.add_argument("-o", "--output", type=Path, help="write the supergraph here")
    parser.add_argument(
        "--routing-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="routing URL of a subgraph read from a file",
    )
    args = parser.parse_args(argv)
    routing = dict(_pairs(args.routing_url, "--routing-url"))
    subgraphs = [
        load_subgraph(name, source, routing.get(name))
        for name, source in _pairs(args.sources, "a source")
    ]
    try:
        supergraph = compose(subgraphs)
    except CompositionError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    if args.output is not None:
        args.output.write_text(supergraph)
    else:
        sys.stdout.write(supergraph)
    return 0


if __name__ == "__main__":
    sys.exit(main())
