"""The fault suite's world: the reference subgraphs (education's answers uncacheable, so
that every request reaches it), a fault proxy in front of education, and a gateway per case,
all real processes on 127.0.0.1; and a way to report each case's figures.

`RUGZAK_SOAK_SECONDS` (set by `make soak`) makes every phase longer; the short default keeps
the suite at a few minutes in `make test`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from tests.e2e.stack import ANN, PROFILE_QUERY, auth_env, start_gateway
from tests.redis_server import _wait_listening
from tests.registry.postgres_server import USER, _as_user, postgres_bin
from tests.servers import ROOT, Server, _spawn, free_port, start_python_server, start_uvicorn

SUBGRAPH_APPS = {
    "education": "tests.resilience.uncached:education",
    "allowances": "subgraphs.allowances.app:app",
    "ticketing": "subgraphs.ticketing.app:app",
    "transparency": "subgraphs.transparency.app:app",
}
SOAK_SECONDS = float(os.environ.get("RUGZAK_SOAK_SECONDS") or 0)
STARTED = time.monotonic()  # the soak's budget counts from here
# a longer run (make soak) stretches each phase of a fault case
PHASE = max(1.0, SOAK_SECONDS / 600) if SOAK_SECONDS else 1.0
RESULTS = ROOT / "bench" / "results"


def socket_on(port: int) -> socket.socket:
    """A listening socket on a given loopback port (a subgraph restarted where it was)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


@dataclass
class World:
    tmp: Path
    issuer: DevIssuer
    env: dict[str, str]
    subgraphs: dict[str, Server] = field(default_factory=dict)
    proxy: Server | None = None

    def callers(self, n: int = 8) -> list[dict[str, str]]:
        """The headers of `n` distinct callers, each Ann signed in on another device (another
        subject): the load of many people rather than one person's identical requests."""
        claims = {"acr": "substantial"}
        mint = self.issuer.mint
        tokens = [mint(subject=f"soak-{i}", insz=ANN, extra_claims=claims) for i in range(n)]
        return [{"authorization": f"Bearer {token}"} for token in tokens]

    def start_subgraph(self, name: str, port: int | None = None) -> Server:
        app = SUBGRAPH_APPS[name]
        if port is None:
            server = start_uvicorn(app, f"subgraph {name}", self.env)
        else:
            argv = ["-m", "gateway.http.serving", app]
            server = start_python_server(argv, f"subgraph {name}", self.env, sock=socket_on(port))
        self.subgraphs[name] = server
        return server

    def urls(self, through_proxy: bool) -> dict[str, str]:
        urls = {name: s.url + "/graphql" for name, s in self.subgraphs.items()}
        if through_proxy:
            assert self.proxy is not None
            urls["education"] = self.proxy.url + "/graphql"
        return urls

    def gateway(self, *extra: str, through_proxy: bool = False) -> Server:
        return start_gateway(self.env, self.urls(through_proxy), *extra)

    def fault(self, mode: str, delay: float = 0.0) -> None:
        assert self.proxy is not None
        httpx.get(f"{self.proxy.url}/__fault", params={"mode": mode, "delay": delay}, timeout=5)

    def education_pid(self) -> int:
        return self.subgraphs["education"].proc.pid

    def restore(self) -> None:
        """Education answering again, whatever a case did to it."""
        server = self.subgraphs["education"]
        if server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)
        else:
            port = int(server.url.rsplit(":", 1)[1])
            self.start_subgraph("education", port)
        if self.proxy is not None:
            self.fault("pass")

    def stop(self) -> None:
        self.restore()
        for server in [*self.subgraphs.values(), *([self.proxy] if self.proxy else [])]:
            server.stop()


@contextlib.contextmanager
def make_world(tmp: Path) -> Iterator[World]:
    issuer, env = auth_env(tmp)
    keys = tmp / "gateway-keys"
    GatewayKeys.load_or_create(keys)  # every gateway of a case signs with it
    env = {
        **env,
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(keys),
        "RUGZAK_GATEWAY_JWKS_URL": str(keys / "jwks.json"),  # what the subgraphs trust
    }
    w = World(tmp, issuer, env)
    try:
        for name in SUBGRAPH_APPS:
            w.start_subgraph(name)
        upstream = w.subgraphs["education"].url
        w.proxy = start_python_server(
            ["-m", "tests.resilience.fault_proxy", "--upstream", upstream],
            "fault proxy",
            env,
            probe="/__fault?mode=pass",
        )
        yield w
    finally:
        w.stop()


def profile_body(n: int) -> bytes:
    return orjson.dumps({"query": PROFILE_QUERY})


def operator_headers(issuer: DevIssuer) -> dict[str, str]:
    """What reading /metrics and /ready's details takes: a token with the metrics:read scope."""
    return {"authorization": f"Bearer {issuer.mint(subject='monitoring', scopes=['metrics:read'])}"}


def ready(world: World, gateway: Server) -> tuple[int, dict[str, Any]]:
    """/ready with its details (each subgraph, the cache, the registry)."""
    response = httpx.get(gateway.url + "/ready", headers=operator_headers(world.issuer), timeout=5)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def metric(world: World, gateway: Server, name: str) -> float:
    """The sum of a metric's samples whose line starts with `name` (labels included)."""
    headers = operator_headers(world.issuer)  # /metrics wants the metrics:read scope
    text = httpx.get(gateway.url + "/metrics", headers=headers, timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def wait_for(condition: Callable[[], bool], within: float, step: float = 0.05) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    return None


@dataclass
class Report:
    """Every case's figures: a table printed at the end, and JSON in the pytest tmp dir (and in
    bench/results/ for `make soak`)."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, case: str, figures: dict[str, Any]) -> None:
        self.rows[case] = figures
        print(f"\n[{case}] " + json.dumps(figures))

    def table(self) -> str:
        columns = ["sent", "answered", "failed_5xx", "no_answer", "p99_ms", "baseline_p99_ms",
                   "fault_p99_ms", "rss_mb"]  # fmt: skip
        lines = [f"{'case':20}" + "".join(f"{c.removesuffix('_ms'):>13}" for c in columns)]
        for case, row in self.rows.items():
            lines.append(f"{case:20}" + "".join(f"{_cell(row.get(c)):>13}" for c in columns))
        return "\n".join(lines)

    def save(self, directory: Path) -> list[Path]:
        written = [directory / "resilience.json"]
        if SOAK_SECONDS:
            RESULTS.mkdir(parents=True, exist_ok=True)
            written.append(RESULTS / "soak.json")
        for path in written:
            path.write_text(json.dumps(self.rows, indent=2) + "\n")
        return written


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


class RedisProcess:
    """A redis-server that a test can kill and start again on the same port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test-servers`")
        self.binary = binary
        self.port = free_port()
        self.server: Server | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--loglevel", "warning"]  # fmt: skip
        self.server = Server(_spawn(argv, None), self.url, "redis-server")
        _wait_listening(self.port, self.server)

    def kill(self) -> None:
        if self.server is not None and self.server.proc.poll() is None:
            os.killpg(self.server.proc.pid, signal.SIGKILL)
            self.server.proc.wait(timeout=10)


class PgCluster:
    """A PostgreSQL cluster that a test can stop (as if the database went away) and start again
    on the same port and data; see tests/registry/postgres_server.py for the why of the flags."""

    def __init__(self) -> None:
        directory = Path(tempfile.mkdtemp(prefix="rugzak-pg-"))
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.user, uid, self.gid = _as_user()
        if uid is not None and self.gid is not None:
            os.chown(directory, uid, self.gid)
        subprocess.run(
            [str(postgres_bin() / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True, capture_output=True, user=self.user, group=self.gid,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        argv = [str(postgres_bin() / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-h", "127.0.0.1", "-k", str(self.directory), "-c", "fsync=off"]  # fmt: skip
        with open(self.directory / "postgres.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                user=self.user,
                group=self.gid,
            )
        import psycopg

        def answers() -> bool:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return True
            except psycopg.OperationalError:
                return False

        if wait_for(answers, 30, 0.1) is None:
            raise RuntimeError("PostgreSQL did not start")

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT): connections drop, as when the server dies."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
