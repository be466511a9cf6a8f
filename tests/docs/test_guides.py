"""The guides in docs/ cannot drift: every shell command and GraphQL operation in them runs
against a real demo (`rugzak demo --config docs/guides-demo.toml`, as the guides tell a reader to
start it) and must give what the guide says (tests/docs/guide_examples.py: the conventions)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.docs.guide_examples import Example, examples
from tests.servers import ROOT, free_port

GUIDES = ("front-end.md", "municipality-developers.md", "app-builders.md", "operators.md")
ALL = [example for guide in GUIDES for example in examples(ROOT / "docs" / guide)]
MAX_NOT_RUN = 3  # per guide: what no test can run (a real identity provider, ...) stays rare


@dataclass
class Demo:
    url: str  # http://127.0.0.1:PORT
    env: dict[str, str]


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    state = tmp_path_factory.mktemp("guides-demo")
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
        "RUGZAK_DEMO_DIR": str(state / "demo"),
        "RUGZAK_GATEWAY": f"http://127.0.0.1:{port}",
        "HOME": str(state),  # nothing a guide's command writes lands in the user's home
    }
    log_path = state / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "demo", "--config", "docs/guides-demo.toml"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while "Press Ctrl-C" not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.2)
            yield Demo(f"http://127.0.0.1:{port}", env)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _on_demo(text: str, demo: Demo) -> str:
    return text.replace("http://127.0.0.1:4000", demo.url)


def _check_expected(example: Example, output: str) -> None:
    for wanted in example.directives.get("expect", []):
        assert wanted in output, f"{example.id}: expected {wanted!r} in:\n{output}"


def _run_shell(example: Example, demo: Demo) -> None:
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", _on_demo(example.text, demo)],
        cwd=ROOT, env=demo.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    expected_exit = int(example.one("exit", "0") or 0)
    assert done.returncode == expected_exit, f"{example.id}: exit {done.returncode}:\n{output}"
    _check_expected(example, output)


def _token(arguments: str, demo: Demo) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "token", *shlex.split(arguments)],
        cwd=ROOT, env=demo.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _run_graphql(example: Example, demo: Demo) -> None:
    headers = {"content-type": "application/json"}
    caller = example.one("as")
    if caller:
        headers["authorization"] = f"Bearer {_token(caller, demo)}"
    for header in example.directives.get("header", []):
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    query = "\n".join(
        line for line in example.text.splitlines() if not re.match(r"^\s*# \w+:", line)
    )
    answer = httpx.post(demo.url + "/graphql", json={"query": query}, headers=headers, timeout=60)
    expected_status = int(example.one("status", "200") or 200)
    assert answer.status_code == expected_status, f"{example.id}: {answer.text}"
    _check_expected(example, answer.text)


def test_every_guide_has_examples_and_few_that_do_not_run() -> None:
    for guide in GUIDES:
        found = [e for e in ALL if e.guide == guide]
        assert sum(e.not_run is None for e in found) >= 3, guide
        assert sum(e.not_run is not None for e in found) <= MAX_NOT_RUN, guide
        for example in found:  # a check that is never made is a typo
            unknown = set(example.directives) - {"as", "header", "status", "exit", "expect"}
            assert not unknown, example.id
            if example.language == "graphql":
                assert "exit" not in example.directives, example.id
            else:
                assert not {"as", "header", "status"} & set(example.directives), example.id


@pytest.mark.parametrize("example", [e for e in ALL if e.not_run is None], ids=lambda e: e.id)
def test_the_guides_example_runs(example: Example, running_demo: Demo) -> None:
    if example.language == "graphql":
        _run_graphql(example, running_demo)
    else:
        _run_shell(example, running_demo)
