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

    python -m gateway.serving MODULE:APP (--fd N | --host H --port P) [--workers N]
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

log = logging.getLogger("rugzak.serving")


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    fd: int | None = None,
    log_level: str = "warning",
    workers: int = 1,
) -> None:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    if workers <= 1:
        server = uvicorn.Server(config)
        if fd is None:
            server.run()
        else:
            server.run(sockets=[socket.socket(fileno=fd)])
        return
    sock = socket.socket(fileno=fd) if fd is not None else config.bind_socket()
    _Supervisor(config, sock, workers).run()


class _Supervisor:
    """The parent of the workers: it forks them, restarts one that dies, stops them all."""

    RESTART_PAUSE = 0.5  # seconds before a crashed worker is replaced (no busy loop on a bad app)

    def __init__(self, config: uvicorn.Config, sock: socket.socket, workers: int) -> None:
        self.config = config
        self.sock = sock
        self.workers = workers
        self.children: set[int] = set()
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.workers):
            self._spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
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
                uvicorn.Server(self.config).run(sockets=[self.sock])
            except BaseException:
                log.exception("worker failed")
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children.add(pid)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def load_app(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.serving")
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
