"""The reference stack for end-to-end tests: the three subgraphs and Rugzak's gateway, each a real
server on 127.0.0.1, with a development issuer whose JWKS all of them trust (a file:// URL).

As in the demo, the subgraphs take only the tokens the gateway mints for them: they read the
gateway's public keys from its /.well-known/gateway-jwks.json (its socket is bound before they
start). Every gateway started with `Stack.env` signs with the same key directory
(RUGZAK_GATEWAY_KEY_DIR), as replicas would. The gateway holds a random master secret
(RUGZAK_INVALIDATION_SECRET); each subgraph gets only the key derived from it for its own name,
with which ticketing signs the invalidations it sends the gateway (RUGZAK_GATEWAY_URL) when a
change makes cached answers stale."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from auth.dev_issuer import DevIssuer
from auth.gateway_keys import GatewayKeys
from auth.invalidation_keys import KEY_ENV, MASTER_ENV, derive_key
from auth.principal import ANONYMOUS, Principal
from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter
from gateway.http.app import GATEWAY_JWKS_PATH
from subgraphs.common.gateway_guard import JWKS_ENV
from subgraphs.common.invalidation import GATEWAY_URL_ENV
from tests.servers import ROOT, Server, listening_socket, start_python_server, start_uvicorn

SUBGRAPHS = ("education", "allowances", "ticketing", "transparency")
SUPERGRAPH = ROOT / "schema.graphql"
ANN = "85671012385"
BRAM = "03621445638"
PROFILE_QUERY = (ROOT / "examples" / "profile.graphql").read_text(encoding="utf-8")


@dataclass
class Stack:
    issuer: DevIssuer
    env: dict[str, str]
    subgraphs: dict[str, Server]
    gateway: Server
    _closers: ExitStack = field(default_factory=ExitStack)

    @property
    def graphql_url(self) -> str:
        return self.gateway.url + "/graphql"

    def subgraph_urls(self) -> dict[str, str]:
        return {name: server.url + "/graphql" for name, server in self.subgraphs.items()}

    def token(self, insz: str) -> str:
        """A citizen's token, signed in at assurance level substantial (as with eID or itsme)."""
        return self.issuer.mint(
            subject=f"test-{insz}", insz=insz, extra_claims={"acr": "substantial"}
        )

    def metrics_headers(self) -> dict[str, str]:
        """What reading the gateway's /metrics takes: a token with the metrics:read scope."""
        token = self.issuer.mint(subject="test-monitoring", scopes=["metrics:read"])
        return {"authorization": f"Bearer {token}"}

    @property
    def invalidation_master(self) -> bytes:
        return self.env[MASTER_ENV].encode()

    def gateway_token(self, name: str, principal: Principal = ANONYMOUS) -> str:
        """A token for subgraph `name` as the gateway mints it (its key, every claim), for
        `principal`: what a request that came through the gateway carries."""
        keys = GatewayKeys.load_or_create(Path(self.env["RUGZAK_GATEWAY_KEY_DIR"]))
        return SubgraphTokenMinter(keys).token(principal, name, ALL_CLAIMS)

    def subgraph_post(
        self,
        name: str,
        query: str,
        headers: Mapping[str, str] | None = None,
        *,
        as_gateway: Principal | None = None,
    ) -> httpx.Response:
        """A request straight to one subgraph, around the gateway: with `headers` only, as
        anybody's would be, or with the token the gateway would mint for `as_gateway`."""
        url = self.subgraphs[name].url + "/graphql"
        sent = {
            "content-type": "application/json",
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        if as_gateway is not None:
            sent["authorization"] = f"Bearer {self.gateway_token(name, as_gateway)}"
        return httpx.post(url, json={"query": query}, headers=sent, timeout=30.0)

    def query(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        insz: str | None = None,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST to the gateway as citizen `insz` (or with `headers`, or anonymously)."""
        if headers is None:
            headers = {"authorization": f"Bearer {self.token(insz)}"} if insz else {}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        return httpx.post(url or self.graphql_url, json=body, headers=headers, timeout=30.0)


def auth_env(tmp: Path) -> tuple[DevIssuer, dict[str, str]]:
    issuer = DevIssuer.load_or_create(tmp / "issuer")
    jwks = tmp / "jwks.json"
    issuer.write_jwks(jwks)
    return issuer, {
        "RUGZAK_TRUSTED_ISSUER": issuer.issuer,
        "RUGZAK_AUDIENCE": issuer.audience,
        "RUGZAK_JWKS_URL": jwks.as_uri(),
    }


def start_gateway(
    env: Mapping[str, str],
    subgraph_urls: Mapping[str, str],
    *extra: str,
    sock: socket.socket | None = None,
) -> Server:
    argv = ["-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH)]
    for name, url in subgraph_urls.items():
        argv += ["--subgraph-url", f"{name}={url}"]
    return start_python_server([*argv, *extra], "rugzak gateway", env, probe="/health", sock=sock)


def subgraph_env_for(name: str, gateway_url: str, master: bytes, tmp: Path) -> dict[str, str]:
    """What subgraph `name` is told: where its data lives, the gateway's keys (over HTTP) and
    URL, and its own invalidation key. No client issuer, no secret of another subgraph."""
    return {
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        JWKS_ENV: gateway_url + GATEWAY_JWKS_PATH,
        GATEWAY_URL_ENV: gateway_url,
        KEY_ENV: derive_key(master, name).decode(),
    }


@contextmanager
def reference_stack(tmp: Path, *gateway_options: str) -> Iterator[Stack]:
    """The three subgraphs (a fresh store under `tmp`) and a gateway started with
    `gateway_options` (e.g. "--cache", "redis://...")."""
    issuer, env = auth_env(tmp)
    master = secrets.token_urlsafe(32)
    env = {
        **env,
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(tmp / "gateway-keys"),
        MASTER_ENV: master,
    }
    with ExitStack() as stack:
        gateway_socket = listening_socket()
        stack.callback(gateway_socket.close)
        gateway_url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
        subgraphs = {}
        for name in SUBGRAPHS:
            subgraph_env = subgraph_env_for(name, gateway_url, master.encode(), tmp)
            server = start_uvicorn(f"subgraphs.{name}.app:app", f"subgraph {name}", subgraph_env)
            stack.callback(server.stop)
            subgraphs[name] = server
        urls = {name: s.url + "/graphql" for name, s in subgraphs.items()}
        gateway = start_gateway(env, urls, *gateway_options, sock=gateway_socket)
        stack.callback(gateway.stop)
        yield Stack(issuer, env, subgraphs, gateway)


@contextmanager
def black_hole() -> Iterator[str]:
    """A URL whose server accepts connections and never answers: a subgraph that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        sock.close()


def closed_port_url() -> str:
    """A URL nobody listens on: a subgraph that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"
