"""Real servers for tests: each on 127.0.0.1, on a port chosen at run time, stopped by the test.

Python servers get an already-listening socket (`--fd`), so there is no window in which another
process could take the port; other servers (Node.js) get a port probed just before they start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.loopback_http import LOOPBACK

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A child process serving HTTP at `url`; `stop()` ends it and its children."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, name: str) -> None:
        self.proc = proc
        self.url = url
        self.name = name

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _spawn(
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    pass_fds: Sequence[int] = (),
    output: Path | None = None,
) -> subprocess.Popen[bytes]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    sink = open(output, "ab") if output is not None else None  # noqa: SIM115
    try:
        return subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=full_env,
            pass_fds=tuple(pass_fds),
            start_new_session=True,  # own process group: stop() ends the whole tree
            stdout=sink,
            stderr=subprocess.STDOUT if sink is not None else None,
        )
    finally:
        if sink is not None:
            sink.close()


def wait_ready(server: Server, probe: str = "/", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        try:
            # closed after the answer: no idle connection of ours counts against the server
            LOOPBACK.get(server.url + probe, headers={"connection": "close"}, timeout=2.0)
            return
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.name} not ready after {timeout}s: {last}")


def listening_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1 and listening: its URL can be handed out
    (e.g. to servers that call it back) before the server that will own it starts."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def start_python_server(
    argv_before_fd: Sequence[str],
    name: str,
    env: Mapping[str, str] | None = None,
    probe: str = "/",
    sock: socket.socket | None = None,
    output: Path | None = None,
) -> Server:
    """Run `python <argv_before_fd> --fd N` with a listening socket already bound for it (`sock`,
    from `listening_socket()`, or a new one); the socket is closed here once passed on. With
    `output`, the server's stdout and stderr go to that file."""
    sock = sock or listening_socket()
    port = sock.getsockname()[1]
    fd = sock.fileno()
    try:
        proc = _spawn(
            [sys.executable, *argv_before_fd, "--fd", str(fd)], env, pass_fds=[fd], output=output
        )
    finally:
        sock.close()
    server = Server(proc, f"http://127.0.0.1:{port}", name)
    wait_ready(server, probe)
    return server


def start_uvicorn(app: str, name: str, env: Mapping[str, str] | None = None) -> Server:
    """An ASGI app (`module:attr`) on uvicorn, through gateway.http.serving (TCP_NODELAY kept)."""
    return start_python_server(["-m", "gateway.http.serving", app], name, env)


def start_process(
    argv: Sequence[str],
    port: int,
    name: str,
    env: Mapping[str, str] | None = None,
    probe: str = "/",
) -> Server:
    """Any server that listens on `port` (chosen by the caller with free_port())."""
    server = Server(_spawn(argv, env), f"http://127.0.0.1:{port}", name)
    wait_ready(server, probe, timeout=60.0)
    return server
