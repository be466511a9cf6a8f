"""What the security tests share: tokens with scopes, reading /metrics with one, and gateways
whose output is kept in a file (to show what was, or was not, logged)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from auth.dev_issuer import DevIssuer
from tests.e2e.stack import SUPERGRAPH
from tests.servers import ROOT, Server, listening_socket, wait_ready

# what uvicorn and Python print when a request's exception escapes
TRACEBACK_MARKERS = ("Traceback", "Exception in ASGI application")


def bearer(
    issuer: DevIssuer,
    subject: str,
    *,
    insz: str | None = None,
    scopes: Sequence[str] = (),
    client_id: str | None = None,
) -> dict[str, str]:
    token = issuer.mint(
        subject=subject, insz=insz, scopes=scopes, client_id=client_id, acr="substantial"
    )
    return {"authorization": f"Bearer {token}"}


def metrics(url: str, issuer: DevIssuer) -> dict[str, float]:
    """The gateway's metrics (`name{labels}` -> value), read with a metrics:read token."""
    headers = bearer(issuer, "monitoring", scopes=["metrics:read"])
    response = httpx.get(url + "/metrics", headers=headers, timeout=10.0)
    assert response.status_code == 200, response.text
    found = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def start_gateway_logged(
    env: Mapping[str, str],
    subgraph_urls: Mapping[str, str],
    log: Path,
    *extra: str,
    supergraph: Path = SUPERGRAPH,
) -> Server:
    """`rugzak serve` on a fresh socket, its stdout and stderr written to `log`."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph)]
    for name, url in subgraph_urls.items():
        argv += ["--subgraph-url", f"{name}={url}"]
    argv += [*extra, "--fd", str(sock.fileno())]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            pass_fds=(sock.fileno(),),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() ends the whole tree
        )
    sock.close()
    server = Server(proc, f"http://127.0.0.1:{port}", "rugzak gateway (logged)")
    wait_ready(server, "/health")
    return server
