"""A real PostgreSQL for tests (Debian's `postgresql` package, installed by `make test-servers`):
a fresh cluster (initdb) in a temporary directory, on a free loopback port, without durability
(fsync off: it is thrown away), stopped and deleted by the caller.

PostgreSQL refuses to run as root; as root (CI), the cluster is made and run as the `postgres`
user the package creates, in a directory given to that user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.servers import Server, free_port

USER = "rugzak"


def postgres_bin() -> Path:
    """The newest installed server's bin directory (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        pytest.fail(
            "PostgreSQL is not installed: run `make test-servers` (it installs Debian's "
            "postgresql package) or .ci/run"
        )
    return Path(found[-1]).parent


@dataclass
class Postgres:
    server: Server
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"


def _as_user() -> tuple[str | None, int | None, int | None]:
    if os.geteuid() != 0:
        return None, None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, but there is no postgres user to run PostgreSQL as")
    return "postgres", entry.pw_uid, entry.pw_gid


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = postgres_bin()
    user, uid, gid = _as_user()
    directory = Path(tempfile.mkdtemp(prefix="rugzak-pg-"))
    data = directory / "data"
    if uid is not None and gid is not None:
        os.chown(directory, uid, gid)
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True, capture_output=True, user=user, group=gid,
        )  # fmt: skip
        port = free_port()
        argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                "-h", "127.0.0.1", "-k", str(directory), "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]  # fmt: skip
        with open(directory / "postgres.log", "wb") as log:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                user=user,
                group=gid,
            )
        server = Server(proc, f"postgresql://127.0.0.1:{port}", "postgres")
        try:
            _wait_ready(Postgres(server, port), server)
            yield Postgres(server, port)
        finally:
            if proc.poll() is None:  # SIGINT: fast shutdown, not waiting for clients to leave
                os.killpg(proc.pid, signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _wait_ready(pg: Postgres, server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {server.proc.returncode}")
        try:
            with psycopg.connect(pg.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"postgres not ready after {timeout} s: {last}")
