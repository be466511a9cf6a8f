"""schema.graphql: the supergraph of the three reference subgraphs.

    python -m tools.reference_supergraph            # rewrite schema.graphql
    python -m tools.reference_supergraph --check    # exit 1 when schema.graphql is stale

Each subgraph's SDL is what it serves as `{ _service { sdl } }`, taken from its schema in-process;
Rugzak's own composition (gateway/composition, as `rugzak compose` runs it) composes them. That
it agrees with the reference library (@theguild/federation-composition) is checked by
tests/composition. Routing URLs are the demo's canonical ones; the gateway overrides them at run
time with `--subgraph-url NAME=URL` (the demo does so for the ports it picks).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence

from gateway.composition import SubgraphSource, compose
from tools.compose_supergraph import ROOT, SERVICE_SDL_QUERY

SUBGRAPHS = ("education", "allowances", "ticketing", "transparency")
CANONICAL_URLS = {
    name: f"http://127.0.0.1:{4001 + index}/graphql" for index, name in enumerate(SUBGRAPHS)
}
SCHEMA_FILE = ROOT / "schema.graphql"


def served_sdl(name: str) -> str:
    module = importlib.import_module(f"subgraphs.{name}.schema")
    result = module.schema.execute_sync(SERVICE_SDL_QUERY)
    if result.errors:
        raise RuntimeError(f"subgraph {name} cannot print its SDL: {result.errors}")
    return str(result.data["_service"]["sdl"])


def reference_supergraph(sdls: Mapping[str, str] | None = None) -> str:
    """The composed supergraph; `sdls` (name -> SDL) defaults to the in-process schemas."""
    sdls = sdls or {name: served_sdl(name) for name in SUBGRAPHS}
    return compose([SubgraphSource(name, CANONICAL_URLS[name], sdls[name]) for name in SUBGRAPHS])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference_supergraph")
    parser.add_argument("--check", action="store_true", help="fail when schema.graphql is stale")
    args = parser.parse_args(argv)
    supergraph = reference_supergraph()
    if args.check:
        if SCHEMA_FILE.read_text(encoding="utf-8") != supergraph:
            print("schema.graphql is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(supergraph, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
