"""The parking subgraph next to a real Rugzak demo gateway, over loopback: registered through
the registry, queried through the gateway, refusing everyone but the gateway.

    pytest examples/municipality-subgraph     (with rugzak and uvicorn installed)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ANN, BRAM = "85671012385", "03621445638"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rugzak_command() -> list[str]:
    found = Path(sys.executable).with_name("rugzak")
    if found.exists():
        return [str(found)]
    on_path = shutil.which("rugzak")
    return [on_path] if on_path else [sys.executable, "-m", "gateway"]


def rugzak(*argv: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*rugzak_command(), *argv], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def start(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(check: object, what: str, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text()}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo gateway and the parking subgraph, each a real server on a free port."""
    tmp = tmp_path_factory.mktemp("parking")
    gateway_port, parking_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(gateway_port), "RUGZAK_DEMO_DIR": str(tmp / "demo")}
    gateway = f"http://127.0.0.1:{gateway_port}"
    demo_log = tmp / "demo.log"
    demo = start([*rugzak_command(), "demo"], env, tmp, demo_log)
    try:
        wait_for(lambda: "Press Ctrl-C" in demo_log.read_text(), "the demo did not start", demo_log)
        parking_env = {
            **os.environ,
            "RUGZAK_GATEWAY_JWKS_URL": f"{gateway}/.well-known/gateway-jwks.json",
        }
        parking_log = tmp / "parking.log"
        uvicorn = [sys.executable, "-m", "uvicorn", "parking:app", "--port", str(parking_port)]
        parking = start(uvicorn, parking_env, HERE, parking_log)
        parking_url = f"http://127.0.0.1:{parking_port}"
        try:

            def healthy() -> bool:
                assert parking.poll() is None, parking_log.read_text()
                try:
                    return httpx.get(parking_url + "/health", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(healthy, "the subgraph did not start", parking_log)
            registry_token = rugzak("token", "--registry", "--owner", "44021", env=env)
            rugzak(
                "registry", "add", "parking", "--url", parking_url + "/graphql",
                "--gateway", gateway, "--token", registry_token, env=env,
            )  # fmt: skip
            yield {"gateway": gateway, "parking": parking_url, **env}
        finally:
            stop(parking)
    finally:
        stop(demo)


def ask(stack: dict[str, str], query: str, token: str | None = None) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + 10  # the registry swaps the new supergraph in at once
    while True:
        answer: dict[str, Any] = httpx.post(
            stack["gateway"] + "/graphql", json={"query": query}, headers=headers, timeout=30
        ).json()
        validation = [e for e in answer.get("errors", []) if "Cannot query" in e["message"]]
        if not validation or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_the_gateway_answers_from_the_subgraph(stack: dict[str, str]) -> None:
    answer = ask(stack, '{ municipality(nisCode: "44021") { name parkingZones { name } } }')
    assert answer == {
        "data": {
            "municipality": {
                "name": "Gent",  # from ticketing
                "parkingZones": [{"name": "Binnenstad"}, {"name": "Gentbrugge"}],  # from us
            }
        }
    }


def test_a_citizen_reads_their_own_permits_and_nobody_elses(stack: dict[str, str]) -> None:
    query = "{ me { parkingPermits { plate zone { name municipality { name } } } } }"
    ann = ask(stack, query, rugzak("token", "--citizen", ANN, env=stack))
    assert ann == {
        "data": {
            "me": {
                "parkingPermits": [
                    {
                        "plate": "1-ABC-123",
                        "zone": {"name": "Binnenstad", "municipality": {"name": "Gent"}},
                    }
                ]
            }
        }
    }
    bram = ask(stack, query, rugzak("token", "--citizen", BRAM, env=stack))
    assert bram == {"data": {"me": {"parkingPermits": []}}}
    # Ann asking for Bram's permits: the gateway refuses before it calls us
    other = ask(stack, f'{{ citizen(insz: "{BRAM}") {{ parkingPermits {{ plate }} }} }}',
                rugzak("token", "--citizen", ANN, env=stack))  # fmt: skip
    assert other["data"] == {"citizen": None}
    # and the operator may grant the subgraph claims: it then checks the citizen itself too
    admin = rugzak("token", "--subject", "operator-1", "--scope", "registry:admin", env=stack)
    rugzak(
        "registry", "claims", "parking", "--grant", "rrn,roles",
        "--gateway", stack["gateway"], "--token", admin, env=stack,
    )  # fmt: skip
    assert ask(stack, query, rugzak("token", "--citizen", ANN, env=stack)) == ann


def test_only_the_gateway_may_call_the_subgraph(stack: dict[str, str]) -> None:
    url = stack["parking"] + "/graphql"
    query = {"query": "{ parkingZones { name } }"}
    anonymous = httpx.post(url, json=query, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "GATEWAY_TOKEN_REQUIRED"
    client_token = rugzak("token", "--citizen", ANN, env=stack)
    replayed = httpx.post(
        url, json=query, headers={"authorization": f"Bearer {client_token}"}, timeout=10
    )
    assert replayed.status_code == 401
    assert replayed.json()["errors"][0]["extensions"]["reason"] == "WRONG_TOKEN_TYPE"

    # a developer calls it as the gateway would: `rugzak token --for-subgraph NAME ...` mints
    # the gateway's token for that subgraph with the demo's gateway key
    def as_gateway_for(name: str) -> httpx.Response:
        token = rugzak("token", "--for-subgraph", name, "--citizen", ANN, env=stack)
        headers = {"authorization": f"Bearer {token}"}
        return httpx.post(url, json=query, headers=headers, timeout=10)

    assert as_gateway_for("parking").json() == {
        "data": {"parkingZones": [{"name": "Binnenstad"}, {"name": "Gentbrugge"}]}
    }
    other = as_gateway_for("education")  # another subgraph's token
    assert other.status_code == 401
    assert other.json()["errors"][0]["extensions"]["code"] == "INVALID_GATEWAY_TOKEN"
    # the SDL alone is open: the registry reads it without credentials
    sdl = httpx.post(url, json={"query": "{ _service { sdl } }"}, timeout=10)
    assert sdl.status_code == 200 and "parkingZones" in sdl.json()["data"]["_service"]["sdl"]
