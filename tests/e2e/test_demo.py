"""`make run`'s main job: the demo starts the subgraphs and the gateway, answers Ann's profile,
logs that read in the access log she can see, has a registry a municipality can talk to, and stops
everything on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.stack import ANN, PROFILE_QUERY
from tests.servers import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rugzak(*argv: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_demo_serves_the_profile_and_a_registry(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while "Press Ctrl-C" not in (tmp_path / "demo.log").read_text():
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.2)
        token = rugzak("token", "--citizen", ANN, cwd=tmp_path)
        answer = httpx.post(
            url + "/graphql",
            json={"query": PROFILE_QUERY},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert "errors" not in answer, answer
        assert answer["data"]["me"]["insz"] == ANN
        registry_token = rugzak("token", "--registry", "--owner", "44021", cwd=tmp_path)
        listed = rugzak("registry", "list", "--gateway", url, "--token", registry_token,
                        cwd=tmp_path)  # fmt: skip
        assert "education" in listed and "ticketing" in listed and "transparency" in listed
        # the profile read above is in Ann's access log, as her own
        query = "{ me { accessLog(first: 5) { ownData categories outcome } } }"
        deadline = time.monotonic() + 10
        while True:
            log_answer = httpx.post(
                url + "/graphql",
                json={"query": query},
                headers={"authorization": f"Bearer {token}"},
                timeout=30,
            ).json()
            assert "errors" not in log_answer, log_answer
            entries = log_answer["data"]["me"]["accessLog"]
            if any(e["ownData"] and "education" in e["categories"] for e in entries):
                break
            assert time.monotonic() < deadline, entries
            time.sleep(0.2)
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        log.close()
    assert demo.returncode == 0, (tmp_path / "demo.log").read_text()
