"""Start the benchmark's processes pinned to a core (`taskset -c CPU`), each in its own process
group so that stopping it ends its whole tree, with its output in a log file."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.servers import ROOT, Server, wait_ready


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def pinned(argv: Sequence[str], cpu: str) -> list[str]:
    taskset = shutil.which("taskset")
    if taskset is None:
        raise RuntimeError("taskset (util-linux) is needed to pin processes to a core")
    return [taskset, "-c", cpu, *argv]


def spawn(
    argv: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, **(env or {})}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=full_env,
            pass_fds=tuple(pass_fds),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_server(
    name: str,
    argv: Sequence[str],
    url: str,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    probe: str = "/",
    timeout: float = 90.0,
) -> Server:
    """A server process at `url`, ready (its `probe` path answers) or stopped with its log."""
    server = Server(spawn(argv, log_path, env, pass_fds), url, name)
    try:
        wait_ready(server, probe, timeout)
    except RuntimeError as exc:
        server.stop()
        output = log_path.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"{exc}\n--- {log_path}:\n{output}") from exc
    return server
