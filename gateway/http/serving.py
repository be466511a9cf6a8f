"""Run an ASGI app on uvicorn, on a host and port or on an already-listening socket, in one
process or in several that share the socket (`workers`).

Why not uvicorn's own `--fd`: it wraps the descriptor as an AF_UNIX socket, so connections
accepted from a TCP socket never get TCP_NODELAY, and every response that is written in two
parts waits about 40 ms for a delayed ACK. Here the socket keeps its real family.

Why not uvicorn's own `workers`: it spawns fresh interpreters that import the app by name, so
the gateway's configuration (flags, a verifier, policy modules) would have to be rebuilt from
strings in each. Here the app is built and checked once, then the process forks: each worker
runs its own event loop over the shared listening socket (the kernel spreads connections), and
the parent restarts a worker that dies and stops them all on SIGTERM or SIGINT.

Every connection is held to the limits of gateway/http/protocol.py (header and body timeouts, a
cap on connections, keep-alive bounds). SIGTERM is a graceful stop: no new connections (the
parent of workers closes its copy of the socket too), requests in flight get
`shutdown_timeout` seconds to finish, then the process exits. An `admin` address is a second
listening socket served by the same app, which tells the two apart by the local port.

    python -m gateway.http.serving MODULE:APP (--fd N | --host H --port P) [--workers N]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

import uvicorn

from gateway.http.protocol import ConnectionLimits, protocol_class
from gateway.log_format import uvicorn_log_config

log = logging.getLogger("rugzak.serving")


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    fd: int | None = None,
    log_level: str = "warning",
    workers: int = 1,
    limits: ConnectionLimits | None = None,
    admin: tuple[str, int] | None = None,
) -> None:
    limits = limits or ConnectionLimits()
    config = server_config(app, host=host, port=port, log_level=log_level, limits=limits)
    sockets = [socket.socket(fileno=fd) if fd is not None else config.bind_socket()]
    if admin is not None:
        sockets.append(bind_listener(*admin))
    if workers <= 1:
        uvicorn.Server(config).run(sockets=sockets)
        return
    _Supervisor(config, sockets, workers, limits.shutdown_timeout).run()


def server_config(
    app: Any, *, host: str, port: int, log_level: str, limits: ConnectionLimits
) -> uvicorn.Config:
    """uvicorn's configuration with our connection limits. Its proxy headers stay off: uvicorn
    would believe X-Forwarded-For from 127.0.0.1 by default; gateway/http/client_ip.py decides."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=uvicorn_log_config(),
        access_log=False,
        http=protocol_class(limits),
        proxy_headers=False,
        timeout_keep_alive=max(1, round(limits.keep_alive_timeout)),
        timeout_graceful_shutdown=max(1, round(limits.shutdown_timeout)),
    )


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening, inheritable socket on host:port; exits with a message when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"rugzak: cannot listen on {host}:{port}: {exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Supervisor:
    """The parent of the workers: it forks them, restarts one that dies, stops them all."""

    RESTART_PAUSE = 0.5  # seconds before a crashed worker is replaced (no busy loop on a bad app)
    KILL_AFTER = 5.0  # seconds past the graceful bound before a worker that hangs is killed

    def __init__(
        self,
        config: uvicorn.Config,
        sockets: list[socket.socket],
        workers: int,
        shutdown_timeout: float,
    ) -> None:
        self.config = config
        self.sockets = sockets
        self.workers = workers
        self.shutdown_timeout = shutdown_timeout
        self.children: set[int] = set()
        self.stopping = False
        self.deadline: float | None = None

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.workers):
            self._spawn()
        while self.children:
            try:
                # polled, not blocking: a SIGTERM must be able to bound the wait for workers
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                self._kill_if_late()
                time.sleep(0.05 if self.stopping else 0.2)
                continue
            if pid not in self.children:
                continue
            self.children.discard(pid)
            if not self.stopping:
                log.error("worker %d ended (%s); starting another", pid, _describe(status))
                time.sleep(self.RESTART_PAUSE)
                if not self.stopping:
                    self._spawn()

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: uvicorn's own signal handling, a clean exit
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                uvicorn.Server(self.config).run(sockets=self.sockets)
            except BaseException:
                log.exception("worker failed")
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children.add(pid)

    def _stop(self, signum: int, frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.deadline = time.monotonic() + self.shutdown_timeout + self.KILL_AFTER
        for sock in self.sockets:  # the kernel refuses new connections once no process listens
            sock.close()
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)

    def _kill_if_late(self) -> None:
        if self.deadline is None or time.monotonic() < self.deadline:
            return
        for pid in list(self.children):
            log.error("worker %d did not stop in time; killing it", pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                self.children.discard(pid)
        self.deadline = None


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def load_app(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.http.serving")
    parser.add_argument("app", help="MODULE:ATTRIBUTE of an ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--fd", type=int, help="an already-listening TCP socket")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the socket")
    args = parser.parse_args(argv)
    serve(
        load_app(args.app),
        host=args.host,
        port=args.port,
        fd=args.fd,
        log_level=args.log_level,
        workers=args.workers,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
