"""The federation benchmark's subgraphs (bench.subgraph_server, pinned to the load core) and
their supergraph, composed by the reference composition library with their run-time URLs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.federation import SUBGRAPHS, subgraph_sdl
from bench.launch import listening_socket, pinned, start_server
from tools.compose_supergraph import Subgraph, compose


@dataclass(frozen=True)
class FederationStack:
    urls: dict[str, str]
    supergraph: Path

    def stats(self) -> dict[str, dict[str, int]]:
        """Requests counted per subgraph so far, and bodies computed (not from the memo)."""
        url = next(iter(self.urls.values())).removesuffix("/graphql") + "/stats"
        body: dict[str, dict[str, int]] = httpx.get(url, timeout=10).json()
        return body

    def subgraph_requests(self) -> int:
        return sum(self.stats()["requests"].values())


@contextmanager
def federation_stack(workdir: Path, cpu: str) -> Iterator[FederationStack]:
    sockets = {name: listening_socket() for name in SUBGRAPHS}
    try:
        urls = {n: f"http://127.0.0.1:{s.getsockname()[1]}/graphql" for n, s in sockets.items()}
        argv = [
            sys.executable,
            "-m",
            "bench.subgraph_server",
            *(f"{n}={s.fileno()}" for n, s in sockets.items()),
        ]
        server = start_server(
            "subgraphs",
            pinned(argv, cpu),
            next(iter(urls.values())).removesuffix("/graphql"),
            workdir / "subgraphs.log",
            pass_fds=[s.fileno() for s in sockets.values()],
            probe="/stats",
        )
    finally:
        for sock in sockets.values():
            sock.close()
    try:
        sdl = compose([Subgraph(name, urls[name], subgraph_sdl(name)) for name in SUBGRAPHS])
        supergraph = workdir / "federation.supergraph.graphql"
        supergraph.write_text(sdl, encoding="utf-8")
        yield FederationStack(urls, supergraph)
    finally:
        server.stop()
