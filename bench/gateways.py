"""The gateways under test, each started on the same supergraph, pinned to the same core, as one
process (no workers or forks), on a port chosen at run time:

- rugzak:      `python -m gateway serve --supergraph FILE --fd N`
- apollo:      `node bench/apollo_gateway.mjs FILE PORT` (@apollo/gateway + @apollo/server)
- hive:        `hive-gateway supergraph FILE` (@graphql-hive/gateway, its JavaScript planner)
- hive-router: the same with `--hive-router-runtime` (@graphql-hive/router-runtime, Rust planner)

All forward the caller's Authorization header to the subgraphs; Rugzak also verifies it (see
bench.tokens) and enforces the supergraph's @authenticated / @requiresScopes / @policy rules,
which the JavaScript gateways here do not. None caches responses or entities: the subgraphs
answer `cache-control: no-store`.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.launch import listening_socket, pinned, start_server
from tests.oracles.hive import GATEWAY_CONFIG, HIVE_BIN
from tests.servers import ROOT, Server, free_port

APOLLO_SCRIPT = ROOT / "bench" / "apollo_gateway.mjs"
NODE_ENV = {"NODE_ENV": "production", "NO_COLOR": "1"}
# Rugzak as configured like the others: no shared cache. (It always mints a token per subgraph
# call, which the others do not: that cost is part of its numbers.)
RUGZAK_PLAIN = {
    "RUGZAK_CACHE_URL": "",
    # the federation benchmark's deep query is estimated at cost ~24,000 (nested lists at the
    # default assumed size of 10), over the default limit of 5,000 that protects a deployment;
    # the peers enforce no cost limit, so the bench lets it through (and still measures the
    # estimate, which Rugzak computes for every operation)
    "RUGZAK_OPERATION_LIMITS": '{"max_cost": 1000000}',
}
# variables that would point a JavaScript gateway at a registry, a CDN or telemetry
REMOTE_ENV_PREFIXES = ("HIVE_", "APOLLO_", "OTEL_", "OPENTELEMETRY", "GRAPHOS_")


@dataclass(frozen=True)
class Setup:
    supergraph: Path
    workdir: Path
    cpu: str
    rugzak_env: dict[str, str]  # what Rugzak needs to verify the load's tokens


@dataclass(frozen=True)
class Gateway:
    name: str
    description: str
    start: Callable[[Setup], Server]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node (Node.js 20+) is not on PATH")
    return node


def _js_env(extra: dict[str, str]) -> dict[str, str]:
    import os

    blank = {name: "" for name in os.environ if name.startswith(REMOTE_ENV_PREFIXES)}
    return {**blank, **NODE_ENV, **extra}


def start_rugzak(setup: Setup) -> Server:
    sock = listening_socket()
    port, fd = sock.getsockname()[1], sock.fileno()
    argv = [
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--supergraph",
        str(setup.supergraph),
        "--fd",
        str(fd),
    ]
    try:
        return start_server(
            "rugzak",
            pinned(argv, setup.cpu),
            f"http://127.0.0.1:{port}",
            setup.workdir / "rugzak.log",
            # the access log (on by default) in the run's directory, not the checkout's
            env={**setup.rugzak_env, **RUGZAK_PLAIN, "RUGZAK_DATA_DIR": str(setup.workdir)},
            pass_fds=[fd],
            probe="/health",
        )
    finally:
        sock.close()


def _without_security_features(supergraph: Path, workdir: Path) -> Path:
    """Apollo Gateway refuses a supergraph that links features `for: SECURITY` it does not
    implement (@authenticated, @policy: enforced by Apollo's Router only); linked without that
    purpose, they are ignored. The plan and the subgraph calls stay the same."""
    sdl = supergraph.read_text(encoding="utf-8")
    if "for: SECURITY" not in sdl:
        return supergraph
    copy = workdir / f"apollo.{supergraph.name}"
    copy.write_text(sdl.replace(", for: SECURITY", ""), encoding="utf-8")
    return copy


def start_apollo(setup: Setup) -> Server:
    port = free_port()
    supergraph = _without_security_features(setup.supergraph, setup.workdir)
    argv = [_node(), str(APOLLO_SCRIPT), str(supergraph), str(port)]
    env = _js_env({"APOLLO_TELEMETRY_DISABLED": "1"})
    log = setup.workdir / "apollo.log"
    return start_server("apollo", pinned(argv, setup.cpu), f"http://127.0.0.1:{port}", log, env)


def _start_hive(name: str, router_runtime: bool) -> Callable[[Setup], Server]:
    def start(setup: Setup) -> Server:
        if not HIVE_BIN.exists():
            raise RuntimeError(f"{HIVE_BIN} is missing: run `npm ci` in {ROOT}")
        config = setup.workdir / f"{name}.config.mjs"
        config.write_text(GATEWAY_CONFIG % {"masked_errors": ""}, encoding="utf-8")
        port = free_port()
        argv = [
            str(HIVE_BIN),
            "supergraph",
            str(setup.supergraph),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config-path",
            str(config),
            "--disable-websockets",
        ]
        if router_runtime:
            argv.append("--hive-router-runtime")
        env = _js_env({"LOG_LEVEL": "error", "FORK": "1", "DEBUG": ""})
        return start_server(
            name,
            pinned(argv, setup.cpu),
            f"http://127.0.0.1:{port}",
            setup.workdir / f"{name}.log",
            env,
            probe="/healthcheck",
        )

    return start


GATEWAYS = {
    g.name: g
    for g in (
        Gateway("rugzak", "Rugzak (this repo), one process", start_rugzak),
        Gateway("apollo", "Apollo Gateway @apollo/gateway", start_apollo),
        Gateway("hive", "Hive Gateway, JavaScript planner", _start_hive("hive", False)),
        Gateway("hive-router", "Hive Gateway, Rust planner", _start_hive("hive-router", True)),
    )
}
