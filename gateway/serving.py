"""Run an ASGI app on uvicorn, on a host and port or on an already-listening socket.

Why not uvicorn's own `--fd`: it wraps the descriptor as an AF_UNIX socket, so connections
accepted from a TCP socket never get TCP_NODELAY, and every response that is written in two
parts waits about 40 ms for a delayed ACK. Here the socket keeps its real family.

    python -m gateway.serving MODULE:APP (--fd N | --host H --port P)
"""

from __future__ import annotations

import argparse
import importlib
import socket
from collections.abc import Sequence
from typing import Any

import uvicorn


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    fd: int | None = None,
    log_level: str = "warning",
) -> None:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    server = uvicorn.Server(config)
    if fd is None:
        server.run()
    else:
        server.run(sockets=[socket.socket(fileno=fd)])


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
    args = parser.parse_args(argv)
    serve(load_app(args.app), host=args.host, port=args.port, fd=args.fd, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
