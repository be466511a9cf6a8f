"""Apollo Gateway (@apollo/gateway, pinned in package.json) as a second opinion.

Hive Gateway is the reference the differential tests compare with. Where a generated operation
gets a different answer from it, Apollo Gateway over the same supergraph and subgraphs settles
who is right: if it answers exactly as Rugzak does, the reference gateway is the odd one out,
and the test reports the operation instead of failing. Started on first use only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.loopback_http import LOOPBACK
from tests.servers import ROOT, Server, free_port, start_process

SCRIPT = ROOT / "bench" / "apollo_gateway.mjs"
PACKAGE = ROOT / "node_modules" / "@apollo" / "gateway" / "package.json"


class ApolloGateway:
    def __init__(self, server: Server) -> None:
        self.server = server

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = LOOPBACK.post(self.server.url + "/graphql", json=body, timeout=30.0)
        answer = response.json()
        if not isinstance(answer, dict):
            raise AssertionError(f"Apollo Gateway answered {response.status_code}: {answer!r}")
        return answer


@contextmanager
def apollo_gateway(supergraph_path: Path) -> Iterator[ApolloGateway]:
    if not PACKAGE.exists():
        raise RuntimeError(f"{PACKAGE.parent} is missing: run `npm ci` in {ROOT}")
    node = shutil.which("node") or "node"
    port = free_port()
    env = {"APOLLO_TELEMETRY_DISABLED": "1", "NODE_ENV": "production"}
    env.update({k: "" for k in os.environ if k.startswith(("APOLLO_KEY", "APOLLO_GRAPH_REF"))})
    server = start_process(
        [node, str(SCRIPT), str(Path(supergraph_path).resolve()), str(port)],
        port,
        "apollo-gateway",
        env=env,
        probe="/graphql",
    )
    try:
        yield ApolloGateway(server)
    finally:
        server.stop()
