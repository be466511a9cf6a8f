"""The subgraphs of each scenario, pinned to the load core, behind bench.subgraph_server's memo
so that answering costs almost nothing, and the supergraph the gateways are given:

- `federation_stack`: the public federation benchmark's four subgraphs (bench.federation),
  composed by the reference composition library with their run-time URLs;
- `profile_stack`: the three reference subgraphs (Strawberry, SQLite), each behind the memo,
  with the checked-in supergraph (schema.graphql) pointed at the memo's URLs. They take only
  gateway tokens, which no JavaScript gateway makes: the memo asks them, once per body, with a
  token of its own key for Ann (every caller of the benchmark is Ann), so that every gateway
  calls the memo the same way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from auth.gateway_keys import GatewayKeys
from bench.federation import SUBGRAPHS, subgraph_sdl
from bench.launch import listening_socket, pinned, start_server
from tests.servers import ROOT, Server
from tools.compose_supergraph import Subgraph, compose

REFERENCE_SUBGRAPHS = ("education", "allowances", "ticketing")


@dataclass(frozen=True)
class SubgraphStack:
    urls: dict[str, str]
    supergraph: Path

    def stats(self) -> dict[str, dict[str, int]]:
        """Requests counted per subgraph so far, and bodies computed (not from the memo)."""
        url = next(iter(self.urls.values())).removesuffix("/graphql") + "/stats"
        body: dict[str, dict[str, int]] = httpx.get(url, timeout=10).json()
        return body

    def subgraph_requests(self) -> int:
        return sum(self.stats()["requests"].values())


def start_memo(
    names: Mapping[str, str], workdir: Path, cpu: str, log: str, keys: Path | None = None
) -> tuple[Server, dict[str, str]]:
    """bench.subgraph_server with one socket per name (an upstream URL, or "" for a local one);
    `keys`: the gateway key directory it signs its upstream requests with."""
    sockets = {name: listening_socket() for name in names}
    try:
        urls = {n: f"http://127.0.0.1:{s.getsockname()[1]}/graphql" for n, s in sockets.items()}
        specs = [f"{n}={s.fileno()}" + (f"={names[n]}" if names[n] else "")
                 for n, s in sockets.items()]  # fmt: skip
        key_args = ["--gateway-keys", str(keys)] if keys else []
        server = start_server(
            log,
            pinned([sys.executable, "-m", "bench.subgraph_server", *specs, *key_args], cpu),
            next(iter(urls.values())).removesuffix("/graphql"),
            workdir / f"{log}.log",
            pass_fds=[s.fileno() for s in sockets.values()],
            probe="/stats",
        )
    finally:
        for sock in sockets.values():
            sock.close()
    return server, urls


@contextmanager
def federation_stack(workdir: Path, cpu: str) -> Iterator[SubgraphStack]:
    server, urls = start_memo(dict.fromkeys(SUBGRAPHS, ""), workdir, cpu, "federation-subgraphs")
    try:
        sdl = compose([Subgraph(name, urls[name], subgraph_sdl(name)) for name in SUBGRAPHS])
        supergraph = workdir / "federation.supergraph.graphql"
        supergraph.write_text(sdl, encoding="utf-8")
        yield SubgraphStack(urls, supergraph)
    finally:
        server.stop()


@contextmanager
def profile_stack(workdir: Path, cpu: str, auth_env: dict[str, str]) -> Iterator[SubgraphStack]:
    keys = workdir / "memo-gateway-keys"
    GatewayKeys.load_or_create(keys)
    env = {**auth_env, "RUGZAK_DATA_DIR": str(workdir / "profile-data"),
           "RUGZAK_GATEWAY_JWKS_URL": str(keys / "jwks.json")}  # fmt: skip
    with ExitStack() as stack:
        upstreams = {}
        for name in REFERENCE_SUBGRAPHS:
            sock = listening_socket()
            port, fd = sock.getsockname()[1], sock.fileno()
            argv = [sys.executable, "-m", "gateway.http.serving", f"subgraphs.{name}.app:app",
                    "--fd", str(fd)]  # fmt: skip
            try:
                server = start_server(name, pinned(argv, cpu), f"http://127.0.0.1:{port}",
                                      workdir / f"{name}.log", env, [fd])  # fmt: skip
            finally:
                sock.close()
            stack.callback(server.stop)
            upstreams[name] = server.url + "/graphql"
        memo, urls = start_memo(upstreams, workdir, cpu, "profile-memo", keys)
        stack.callback(memo.stop)
        sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
        for name, url in urls.items():
            sdl = re.sub(rf'(name: "{name}", url: ")[^"]+', rf"\g<1>{url}", sdl)
        supergraph = workdir / "profile.supergraph.graphql"
        supergraph.write_text(sdl, encoding="utf-8")
        yield SubgraphStack(urls, supergraph)
