"""`make run`: the reference subgraphs (education, allowances, ticketing, and the gateway's own
transparency subgraph) and the gateway on 127.0.0.1, embedded defaults.

The subgraphs run as child processes on ports chosen at run time; the gateway serves the checked-in
supergraph (schema.graphql) with their URLs, in the foreground, on port 4000 (or $PORT). A local
development issuer signs tokens; its public keys are published on the gateway's
/.well-known/jwks.json, which the gateway and the subgraphs both trust. A random secret, new at each
start, is given to the gateway and the subgraphs: the gateway signs every subgraph request with it
and the subgraphs answer nobody else; ticketing signs with it the invalidations it sends the
gateway (RUGZAK_GATEWAY_URL) when a ticket changes. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn

from auth.dev_issuer import DevIssuer
from auth.gateway_signature import SECRET_ENV, SECRET_FILE_ENV
from auth.verifier import TokenVerifier, TrustedIssuer
from gateway.app import create_app
from gateway.audit.settings import AccessLogSettings
from gateway.config import GatewayConfig
from gateway.http_protocol import ConnectionLimits
from gateway.serving import server_config
from gateway.telemetry import install_log_redaction

SUBGRAPHS = ("education", "allowances", "ticketing", "transparency")
ANN = "85671012385"
# the checkout the demo runs from (it needs the supergraph and the example, wherever the cwd is)
REPO = Path(__file__).resolve().parents[1]
EXAMPLE_QUERY_FILE = REPO / "examples" / "profile.graphql"
DEMO_CONFIG = Path(__file__).with_name("demo_files") / "demo.toml"


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _start_subgraph(name: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    sock = _listening_socket()
    port = sock.getsockname()[1]
    argv = [
        sys.executable, "-m", "gateway.serving", f"subgraphs.{name}.app:app",
        "--fd", str(sock.fileno()),
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(argv, env=env, pass_fds=[sock.fileno()], start_new_session=True)
    finally:
        sock.close()
    return proc, f"http://127.0.0.1:{port}/graphql"


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"subgraph at {url} exited with {proc.returncode}")
        try:
            httpx.get(url.rsplit("/", 1)[0] + "/health", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"subgraph at {url} did not start within {timeout:g}s")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _banner(url: str, token: str) -> str:
    query = EXAMPLE_QUERY_FILE.read_text(encoding="utf-8").strip()
    return f"""
Rugzak is serving the citizen profile at {url}
  GraphiQL:  open {url} in a browser
  health:    {url.rsplit("/", 1)[0]}/health

Ann's token (citizen {ANN}; mint others with `rugzak token --citizen INSZ`):
{token}

Example: her whole profile, from three subgraphs in one query
  curl -s {url} -H 'content-type: application/json' \\
       -H "authorization: Bearer $(.venv/bin/rugzak token --citizen {ANN})" \\
       --data @- <<'EOF'
{{"query": {_json_string(query)}}}
EOF

{query}

Who read Ann's data (every read of personal data is logged; she sees her own):
  {{ me {{ accessLog(first: 5) {{ at organisation {{ nisCode name }} role purpose
                                application categories outcome }} }} }}

A municipality registers its own subgraph (composition and breaking changes checked first):
  .venv/bin/rugzak registry add NAME --url SUBGRAPH_URL --gateway {url.rsplit("/", 1)[0]} \
       --token "$(.venv/bin/rugzak token --registry --owner 44021)"

Press Ctrl-C to stop.
"""


def _json_string(text: str) -> str:
    import json

    return json.dumps(text)


def run_demo() -> int:
    install_log_redaction()
    port = int(os.environ.get("PORT", "4000"))
    state = Path(".rugzak")
    issuer = DevIssuer.load_or_create(state / "dev-issuer")
    jwks_url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
    # the subgraphs answer only requests signed with it: nobody can go around the gateway
    subgraph_secret = secrets.token_urlsafe(32)
    # the demo's own issuer and secret; settings for another deployment must not leak in
    ignored = {SECRET_FILE_ENV, "RUGZAK_TRUSTED_ISSUERS"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(
        {SECRET_ENV: subgraph_secret},
        RUGZAK_DATA_DIR=str(state / "data"),
        # the access log the gateway writes, which the transparency subgraph shows
        RUGZAK_ACCESS_LOG=f"sqlite:{state / 'data' / 'audit.sqlite3'}",
        RUGZAK_TRUSTED_ISSUER=issuer.issuer,
        RUGZAK_AUDIENCE=issuer.audience,
        RUGZAK_JWKS_URL=jwks_url,
        # where ticketing says which cached answers a ticket's change made stale
        RUGZAK_GATEWAY_URL=f"http://127.0.0.1:{port}",
    )
    procs: list[subprocess.Popen[bytes]] = []
    # uvicorn re-raises the signal that stopped it; as an exception it still lets us stop the
    # subgraphs below instead of dying with them orphaned
    signal.signal(signal.SIGTERM, _interrupt)
    registry_dir = tempfile.TemporaryDirectory(prefix="rugzak-demo-registry-")
    try:
        urls = {}
        for name in SUBGRAPHS:
            proc, url = _start_subgraph(name, env)
            procs.append(proc)
            urls[name] = url
        for proc, url in zip(procs, urls.values(), strict=True):
            _wait_ready(url, proc)
        verifier = TokenVerifier([TrustedIssuer(issuer.issuer, issuer.audience, jwks_url)])
        app = create_app(
            GatewayConfig(
                supergraph=str(REPO / "schema.graphql"),
                subgraph_urls=urls,
                dev_issuer_dir=state / "dev-issuer",
                subgraph_secret=subgraph_secret.encode(),
                # a registry of this run's subgraphs (their ports change from run to run), so
                # that `rugzak registry add` works against the demo
                registry_url=f"sqlite:{registry_dir.name}/registry.sqlite3",
                # the demo's subgraphs, and those a municipality starts next to it, are on
                # loopback: a real deployment leaves this out (or allows only its own hosts)
                registry_allowed_urls=("http://127.0.0.1:*",),
                # every read of personal data, in the file the transparency subgraph shows
                access_log=AccessLogSettings(
                    store=f"sqlite:{state / 'data' / 'audit.sqlite3'}",
                    spool_dir=state / "data" / "audit-spool",
                ),
                # GraphiQL loads the schema before a token is pasted in
                introspection="all",
            ),
            verifier,
        )
        config = server_config(
            app, host="127.0.0.1", port=port, log_level="warning", limits=ConnectionLimits()
        )
        server = uvicorn.Server(config)
        token = issuer.mint(
            subject="demo-citizen-ann", insz=ANN, ttl=12 * 3600, extra_claims={"acr": "substantial"}
        )
        asyncio.run(_serve(server, _banner(f"http://127.0.0.1:{port}/graphql", token)))
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"rugzak demo: {exc}", file=sys.stderr)
        return 1
    finally:
        _stop(procs)
        registry_dir.cleanup()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def _serve(server: uvicorn.Server, banner: str) -> None:
    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        print(banner, flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()
