"""`pip install .` into a new venv, away from the checkout: `rugzak --version`, and `rugzak demo`
serves the profile from the installed package alone (the supergraph, the examples and the demo's
settings are package data, found with importlib.resources).

The wheel is built from a copy of the sources, as `pip install .` builds it (isolated build,
setuptools from the index). In `make test`, the new venv borrows the dependencies of the one
running the tests (a .pth line; the checkout stays off its path); with `--deep` (`make
test-deep`) it installs them too, pinned by constraints.txt, as a user's `pip install .` would.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import site
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import ANN, PROFILE_QUERY
from tests.servers import ROOT, free_port

SOURCES = (
    "pyproject.toml", "README.md", "schema.graphql", "examples",
    "gateway", "auth", "subgraphs", "resolvers",
)  # fmt: skip
DEEP = os.environ.get("RUGZAK_DEEP") == "1"


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv}: {done.stderr[-3000:]}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")
            shutil.copytree(path, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)])
    (found,) = out.glob("rugzak-*.whl")
    return found


def _venv(path: Path, wheel: Path, install_dependencies: bool) -> Path:
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = path / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    if install_dependencies:
        _run([*pip, "-c", str(ROOT / "constraints.txt"), str(wheel)])
    else:
        _run([*pip, "--no-deps", str(wheel)])
        code = "import sysconfig; print(sysconfig.get_path('purelib'))"
        purelib = _run([str(python), "-c", code])
        # after the venv's own site-packages: the wheel's gateway comes first, and the editable
        # install's own .pth files over there are never read
        deps = Path(purelib.stdout.strip()) / "_borrowed_dependencies.pth"
        deps.write_text("\n".join(site.getsitepackages()) + "\n")
    return path


@pytest.mark.parametrize(
    "install_dependencies",
    [
        False,
        pytest.param(True, marks=pytest.mark.skipif(not DEEP, reason="make test-deep")),
    ],
    ids=["borrowed-dependencies", "pip-installed-dependencies"],
)
def test_an_installed_wheel_runs_the_demo(
    wheel: Path, tmp_path: Path, install_dependencies: bool
) -> None:
    venv = _venv(tmp_path / "venv", wheel, install_dependencies)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"RUGZAK_DEMO_DIR": str(tmp_path / "state"), "PORT": str(free_port())}
    rugzak = str(venv / "bin" / "rugzak")

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _run([rugzak, "--version"], cwd=elsewhere, env=env).stdout == f"rugzak {version}\n"
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import gateway, subgraphs; print(gateway.__file__)"],
        cwd=elsewhere,
        env=env,
    ).stdout
    assert where.startswith(str(venv)), where  # not the checkout's

    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [rugzak, "demo"], cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while "Press Ctrl-C" not in log_path.read_text():
                assert demo.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            url = re.search(r"serving the citizen profile at (\S+)", log_path.read_text())
            assert url is not None
            token = _run([rugzak, "token", "--citizen", ANN], cwd=elsewhere, env=env).stdout
            answer = httpx.post(
                url.group(1),
                json={"query": PROFILE_QUERY},
                headers={"authorization": f"Bearer {token.strip()}"},
                timeout=30,
            ).json()
            assert "errors" not in answer, answer
            assert answer["data"]["me"]["insz"] == ANN
            assert answer["data"]["me"]["qualifications"]["totalCount"] >= 2
        finally:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
    assert demo.returncode == 0, log_path.read_text()
    assert not (elsewhere / ".rugzak").exists()
