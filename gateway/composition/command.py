"""`rugzak compose NAME=URL_OR_FILE ... [-o FILE] [--routing-url NAME=URL]`.

A source is an http(s) URL of a running subgraph (its `{ _service { sdl } }` is fetched and the
URL is its routing URL in the supergraph) or a file of SDL (routing URL from `--routing-url
NAME=URL`, else a placeholder `http://127.0.0.1/NAME/graphql`). Composition errors go to stderr,
one per line, and the command exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import orjson

from gateway.composition.compose import SubgraphSource, compose
from gateway.composition.errors import CompositionFailed

SERVICE_SDL_QUERY = "{ _service { sdl } }"


class SourceError(Exception):
    pass


def _pairs(values: Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise SourceError(f"{what} must look like NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def fetch_sdl(url: str, timeout: float = 10.0) -> str:
    """A running subgraph's SDL, from `{ _service { sdl } }`, asked with no credentials (the
    reference subgraphs answer an operation that reads only `_service` to anyone)."""
    body = orjson.dumps({"query": SERVICE_SDL_QUERY})
    headers = {"content-type": "application/json"}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
        response.raise_for_status()
        sdl = response.json()["data"]["_service"]["sdl"]
    except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"cannot read the SDL of {url}: {exc}") from exc
    if not isinstance(sdl, str):
        raise SourceError(f"{url} answered no _service.sdl")
    return sdl


def load_source(name: str, source: str, routing_url: str | None = None) -> SubgraphSource:
    if source.startswith(("http://", "https://")):
        return SubgraphSource(name, routing_url or source, fetch_sdl(source))
    try:
        sdl = Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {source}: {exc}") from exc
    return SubgraphSource(name, routing_url or f"http://127.0.0.1/{name}/graphql", sdl)


def run_compose(sources: Sequence[str], output: str | None, routing_urls: Sequence[str]) -> int:
    try:
        routing = dict(_pairs(routing_urls, "--routing-url"))
        subgraphs = [load_source(n, s, routing.get(n)) for n, s in _pairs(sources, "a source")]
        supergraph = compose(subgraphs)
    except SourceError as exc:
        print(f"rugzak: {exc}", file=sys.stderr)
        return 2
    except CompositionFailed as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    if output:
        Path(output).write_text(supergraph, encoding="utf-8")
    else:
        sys.stdout.write(supergraph)
    return 0
