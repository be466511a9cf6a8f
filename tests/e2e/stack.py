"""The reference stack for end-to-end tests: the three subgraphs and Rugzak's gateway, each a real
server on 127.0.0.1, with a development issuer whose JWKS all of them trust (a file:// URL).

As in the demo, the gateway and the subgraphs share a random secret (RUGZAK_SUBGRAPH_SECRET in
`Stack.env`): every gateway started with that env signs its subgraph requests, and the subgraphs
refuse requests that are not signed with it. The subgraphs know the gateway's URL
(RUGZAK_GATEWAY_URL; its socket is bound before they start) and tell it, signed with the same
secret, when a change makes cached answers stale."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from auth.dev_issuer import DevIssuer
from auth.gateway_signature import SECRET_ENV, SIGNATURE_HEADER, GatewaySigner
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
    def subgraph_secret(self) -> bytes:
        return self.env[SECRET_ENV].encode()

    def subgraph_post(
        self,
        name: str,
        query: str,
        headers: Mapping[str, str] | None = None,
        *,
        signed: bool = False,
    ) -> httpx.Response:
        """A request straight to one subgraph, around the gateway: unsigned as anybody's would
        be, or `signed` with the gateway's secret as if the gateway had sent it."""
        url = self.subgraphs[name].url + "/graphql"
        body = orjson.dumps({"query": query})
        sent = {
            "content-type": "application/json",
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        if signed:
            signer = GatewaySigner(self.subgraph_secret)
            sent[SIGNATURE_HEADER] = signer.sign("POST", "/graphql", body, sent)
        return httpx.post(url, content=body, headers=sent, timeout=30.0)

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


@contextmanager
def reference_stack(tmp: Path, *gateway_options: str) -> Iterator[Stack]:
    """The three subgraphs (a fresh store under `tmp`) and a gateway started with
    `gateway_options` (e.g. "--cache", "redis://...")."""
    issuer, env = auth_env(tmp)
    env = {**env, "RUGZAK_DATA_DIR": str(tmp / "data"), SECRET_ENV: secrets.token_urlsafe(32)}
    with ExitStack() as stack:
        gateway_socket = listening_socket()
        stack.callback(gateway_socket.close)
        gateway_url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
        subgraph_env = {**env, GATEWAY_URL_ENV: gateway_url}
        subgraphs = {}
        for name in SUBGRAPHS:
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
