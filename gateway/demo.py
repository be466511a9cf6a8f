"""`rugzak demo` (`make run`): the reference subgraphs (education, allowances, ticketing, and the
gateway's own transparency subgraph) and the gateway on 127.0.0.1, for trying Rugzak and for
developing a subgraph against it.

The subgraphs run as child processes on ports chosen at run time; the gateway serves the packaged
supergraph (gateway/demo_files/schema.graphql) with their URLs, in the foreground, on port 4000
($PORT, `port` or `--port`). It takes every option of `rugzak serve`, and a config file, over its
own settings (gateway/demo_files/demo.toml); what it runs is its own: the supergraph, the
subgraphs' URLs, the issuer its tokens come from and a registry of this run's subgraphs.

Its state lives in one folder per user (auth.dev_issuer.demo_dir: $RUGZAK_DEMO_DIR, else
~/.local/share/rugzak/demo), so that `rugzak token` finds its issuer from any folder: the
development issuer's key (its public keys published on the gateway's /.well-known/jwks.json,
which the gateway trusts), the gateway's own keys, the master secret of the subgraphs'
invalidation keys, and the subgraphs' and the access log's data (`--fresh` starts that data
anew). The subgraphs never see a caller's token: each call carries a token the gateway signs for
that subgraph, checked against the keys it publishes at /.well-known/gateway-jwks.json. Each
subgraph gets only its own invalidation key, which ticketing signs the invalidations it sends
the gateway (RUGZAK_GATEWAY_URL) with when a ticket changes. The banner prints what a subgraph
developer needs to check the gateway's tokens. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path

import httpx

from auth.dev_issuer import DevIssuer, demo_dir
from auth.invalidation_keys import KEY_ENV, MASTER_ENV, MASTER_FILE_ENV, derive_key
from auth.subgraph_tokens import DEFAULT_GATEWAY_ISSUER
from auth.verifier import TokenVerifier, TrustedIssuer
from gateway import config_file
from gateway.config import GatewayConfig
from gateway.errors import GatewayError

SUBGRAPHS = ("education", "allowances", "ticketing", "transparency")
ANN = "85671012385"
# package data (pyproject.toml), so that the demo runs from an installed wheel as from a checkout
FILES = files("gateway") / "demo_files"
DEMO_CONFIG = Path(str(FILES / "demo.toml"))
# options the demo sets itself: what it runs, and whom it trusts
OWN = (
    "supergraph", "subgraph-url", "dev-issuer-dir", "registry", "trusted-issuers", "jwks-url",
    "trusted-issuer", "audience", "gateway-key-dir", "gateway-issuer", "invalidation-secret-file",
    "fd",
)  # fmt: skip


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
        sys.executable, "-m", "gateway.http.serving", f"subgraphs.{name}.app:app",
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


def _banner(url: str, token: str, state: Path, rugzak: str) -> str:
    query = (FILES / "examples" / "profile.graphql").read_text(encoding="utf-8").strip()
    base = url.rsplit("/", 1)[0]
    return f"""
Rugzak is serving the citizen profile at {url}
  GraphiQL:  open {url} in a browser
  health:    {base}/health

Ann's token (citizen {ANN}; mint others from any folder with `{rugzak} token --citizen INSZ`):
{token}

Example: her whole profile, from three subgraphs in one query
  curl -s {url} -H 'content-type: application/json' \\
       -H "authorization: Bearer $({rugzak} token --citizen {ANN})" \\
       --data @- <<'EOF'
{{"query": {json.dumps(query)}}}
EOF

{query}

Who read Ann's data (every read of personal data is logged; she sees her own):
  {{ me {{ accessLog(first: 5) {{ at organisation {{ nisCode name }} role purpose
                                application categories outcome }} }} }}

Developing a subgraph against the demo: the gateway sends it no caller's token, but one it signs
for that subgraph (ES256, typ rugzak-subgraph+jwt, iss {DEFAULT_GATEWAY_ISSUER}, aud the name it
is registered under, 30 s), with the caller claims granted to it (none until a registry:admin
grants some: `{rugzak} registry claims NAME --grant rrn`). Check it with the gateway's keys:
  keys:      {base}/.well-known/gateway-jwks.json
  (a subgraph built on subgraphs/common: RUGZAK_GATEWAY_JWKS_URL=<those keys' URL>)
  call it yourself with the token the gateway would send it (here for Ann, to subgraph NAME):
    -H "authorization: Bearer $({rugzak} token --for-subgraph NAME --citizen {ANN})"
  register it (composition and breaking changes checked first):
    {rugzak} registry add NAME --url http://127.0.0.1:PORT/graphql --gateway {base} \\
         --token "$({rugzak} token --registry --owner 44021)"

The demo's state is in {state} (`--fresh` starts its data anew).
Press Ctrl-C to stop.
"""


def _rugzak() -> str:
    """How to call `rugzak` from this shell: by name when it is on PATH, else by its path."""
    script = Path(sys.executable).with_name("rugzak")
    on_path = shutil.which("rugzak")
    if on_path and script.exists() and Path(on_path).resolve() == script.resolve():
        return "rugzak"
    if not script.exists():
        return f"{sys.executable} -m gateway"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _secret(path: Path) -> Path:
    """The demo's master secret of the invalidation keys, made once (mode 0600), so that a
    subgraph's key stays valid across restarts."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return path


def _refuse_own(args: argparse.Namespace) -> None:
    for key in OWN:
        where = config_file.source(args, key)
        if where not in ("default",) and not where.startswith("env "):
            raise SystemExit(
                f"rugzak demo: {key} is the demo's own (from {where}); run `rugzak serve` to "
                "serve your own supergraph with your own settings"
            )


def _demo_settings(args: argparse.Namespace, state: Path, supergraph: Path) -> None:
    """The demo's own settings, under what the caller gave (flag, variable, file)."""
    _refuse_own(args)
    args.supergraph = str(supergraph)
    args.dev_issuer_dir = str(state / "dev-issuer")
    args.gateway_key_dir = str(state / "gateway-keys")
    args.gateway_issuer = None  # the default, which the subgraphs expect
    args.invalidation_secret_file = str(_secret(state / "invalidation-secret"))
    args.trusted_issuers = None
    args.fd = None
    data = Path(args.data_dir or os.environ.get("RUGZAK_DATA_DIR") or state / "data")
    args.data_dir = str(data)
    if config_file.source(args, "access-log") == "default":
        # every read of personal data, in the file the transparency subgraph shows
        args.access_log = f"sqlite:{data / 'audit.sqlite3'}"
    if config_file.source(args, "port") != "flag" and os.environ.get("PORT", "").strip():
        try:  # `PORT=4001 make run`: an environment variable, over the files
            args.port = int(os.environ["PORT"])
        except ValueError:
            port = os.environ["PORT"]
            raise SystemExit(f"rugzak demo: PORT is a port number, got {port!r}") from None


def run_demo(args: argparse.Namespace) -> int:
    from gateway import observe_options
    from gateway.http.serving import bind_listener
    from gateway.serve_config import gateway_config
    from gateway.telemetry import configure_logging

    configure_logging(args.log_level, observe_options.log_format(args))
    state = demo_dir()
    if args.fresh:  # the subgraphs' data and the access log; the issuer and keys stay
        shutil.rmtree(state / "data", ignore_errors=True)
    with (
        as_file(FILES / "schema.graphql") as supergraph,
        tempfile.TemporaryDirectory(prefix="rugzak-demo-registry-") as registry_dir,
    ):
        _demo_settings(args, state, supergraph)
        # a registry of this run's subgraphs (their ports change from run to run), so that
        # `rugzak registry add` works against the demo
        args.registry = f"sqlite:{registry_dir}/registry.sqlite3"
        issuer = DevIssuer.load_or_create(state / "dev-issuer")
        config = gateway_config(args)
        sock = bind_listener(args.host, args.port)
        local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        base = f"http://{local}:{args.port}"
        # the demo's own keys; settings for another deployment must not leak in
        ignored = {
            MASTER_ENV,
            MASTER_FILE_ENV,
            KEY_ENV,
            "RUGZAK_TRUSTED_ISSUERS",
            "RUGZAK_JWKS_URL",
        }
        ignored |= {"RUGZAK_GATEWAY_ISSUER", "RUGZAK_SUBGRAPH_AUDIENCE", "RUGZAK_SUBGRAPH_SECRET"}
        ignored |= {"RUGZAK_SUBGRAPH_SECRET_FILE"}
        env = {k: v for k, v in os.environ.items() if k not in ignored}
        env.update(
            RUGZAK_DATA_DIR=args.data_dir,
            # the subgraphs trust the gateway's keys only, never a caller's token
            RUGZAK_GATEWAY_JWKS_URL=f"{base}/.well-known/gateway-jwks.json",
            # where ticketing says which cached answers a ticket's change made stale
            RUGZAK_GATEWAY_URL=base,
        )
        if config.access_log is not None:  # the log the transparency subgraph shows
            env["RUGZAK_ACCESS_LOG"] = config.access_log.store
        try:
            master = Path(args.invalidation_secret_file).read_text(encoding="ascii").strip()
            with _subgraphs(env, master.encode()) as urls:
                config.subgraph_urls = urls
                return _serve(args, config, issuer, sock, base, state)
        except KeyboardInterrupt:
            return 0
        except RuntimeError as exc:  # a subgraph that did not start
            print(f"rugzak demo: {exc}", file=sys.stderr)
            return 1


def _serve(
    args: argparse.Namespace,
    config: GatewayConfig,
    issuer: DevIssuer,
    sock: socket.socket,
    base: str,
    state: Path,
) -> int:
    from gateway.http import edge
    from gateway.http.app import create_app
    from gateway.http.serving import serve

    verifier = TokenVerifier(
        [TrustedIssuer(issuer.issuer, issuer.audience, f"{base}/.well-known/jwks.json")]
    )
    try:
        app = create_app(config, verifier)
    except (GatewayError, ValueError, ImportError) as exc:
        print(f"rugzak demo: {exc}", file=sys.stderr)
        return 2
    token = issuer.mint(
        subject="demo-citizen-ann", insz=ANN, ttl=12 * 3600, extra_claims={"acr": "substantial"}
    )
    banner = _banner(f"{base}/graphql", token, state, _rugzak())
    # printed once the gateway answers (its startup done: the registry seeded, the schema
    # loaded), by a thread, since serving blocks this one
    threading.Thread(target=_announce, args=(base, banner), daemon=True).start()
    serve(
        app,
        fd=sock.detach(),
        log_level=args.log_level,
        workers=args.workers or 1,
        limits=edge.connection_limits(args),
        admin=edge.admin_address(args),
    )
    return 0


def _announce(base: str, banner: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                print(banner, flush=True)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)


@contextmanager
def _subgraphs(env: dict[str, str], master: bytes) -> Iterator[dict[str, str]]:
    """The reference subgraphs, each with its own invalidation key, started and ready; stopped
    on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    # uvicorn re-raises the signal that stopped it; as an exception it still lets us stop the
    # subgraphs below instead of dying with them orphaned
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        urls = {}
        for name in SUBGRAPHS:
            proc, url = _start_subgraph(name, {**env, KEY_ENV: derive_key(master, name).decode()})
            procs.append(proc)
            urls[name] = url
        for proc, url in zip(procs, urls.values(), strict=True):
            _wait_ready(url, proc)
        yield urls
    finally:
        _stop(procs)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
