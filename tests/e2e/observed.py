"""The reference subgraphs around a gateway whose logs or spans a test reads: the gateway runs
as a child process with its output in a file, or in this process (on a thread of its own, over
loopback like any other) so that a test's span exporter sees its spans. One subgraph may be
reached through a recording proxy, which keeps the request heads the gateway sent it."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from auth.invalidation_keys import MASTER_ENV
from tests.e2e.stack import SUBGRAPHS, SUPERGRAPH, Stack, auth_env, subgraph_env_for
from tests.servers import Server, listening_socket, start_python_server, start_uvicorn


class RecordingProxy:
    """Forwards TCP to `target_port`, keeping every byte the client sent (the request heads)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()
        self.sock = listening_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    async def start(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, sock=self.sock)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, keep: bool) -> None:
            try:
                while chunk := await src.read(65536):
                    if keep:
                        self.sent.extend(chunk)
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):  # closed, or the test is over
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def header_values(self, name: str) -> list[str]:
        prefix = name.lower().encode() + b":"
        return [
            line[len(prefix) :].strip().decode("latin-1")
            for line in bytes(self.sent).split(b"\r\n")
            if line.lower().startswith(prefix)
        ]


class ThreadServer:
    """An ASGI app on uvicorn in a thread of this process, on an already-bound socket, with
    the recording proxies on the same event loop."""

    def __init__(self, app: object, sock: socket.socket, proxies: list[RecordingProxy]) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.sock = sock
        self.proxies = proxies
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        proxy_servers = [await p.start() for p in self.proxies]
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            for server in proxy_servers:
                server.close()

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        waited = 0.0
        while not self.server.started:
            if not self.thread.is_alive() or waited > timeout:
                raise RuntimeError("the in-process gateway did not start")
            time.sleep(0.05)
            waited += 0.05

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@contextmanager
def subgraphs_for(
    tmp: Path, gateway_socket: socket.socket
) -> Iterator[tuple[dict[str, Any], dict[str, Server]]]:
    """The subgraphs, trusting the gateway that will listen on `gateway_socket`; (env for
    the gateway, {name: Server})."""
    issuer, env = auth_env(tmp)
    master = secrets.token_urlsafe(32)
    env = {
        **env,
        "RUGZAK_DATA_DIR": str(tmp / "data"),
        "RUGZAK_GATEWAY_KEY_DIR": str(tmp / "gateway-keys"),
        MASTER_ENV: master,
    }
    gateway_url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for name in SUBGRAPHS:
            subgraph_env = subgraph_env_for(name, gateway_url, master.encode(), tmp)
            server = start_uvicorn(f"subgraphs.{name}.app:app", f"subgraph {name}", subgraph_env)
            stack.callback(server.stop)
            servers[name] = server
        yield {"issuer": issuer, "env": env}, servers


@contextmanager
def logged_stack(tmp: Path, output: Path, *gateway_options: str) -> Iterator[Stack]:
    """The reference stack with the gateway's stdout and stderr in `output`."""
    gateway_socket = listening_socket()
    try:
        with subgraphs_for(tmp, gateway_socket) as (auth, servers):
            urls = {name: s.url + "/graphql" for name, s in servers.items()}
            argv = ["-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH)]
            for name, url in urls.items():
                argv += ["--subgraph-url", f"{name}={url}"]
            gateway = start_python_server(
                [*argv, *gateway_options],
                "rugzak gateway",
                auth["env"],
                probe="/health",
                sock=gateway_socket,
                output=output,
            )
            try:
                yield Stack(auth["issuer"], auth["env"], servers, gateway)
            finally:
                gateway.stop()
    finally:
        gateway_socket.close()
