"""`make run`'s main job: the demo starts the subgraphs and the gateway, answers Ann's profile,
logs that read in the access log she can see, has a registry a municipality can talk to, tells a
subgraph developer what checks the gateway's calls, takes serve's options and a config file, and
stops everything on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.stack import ANN, PROFILE_QUERY
from tests.registry.harness import PARKING_ANSWER, PARKING_QUERY
from tests.servers import ROOT, free_port, start_python_server


def rugzak(*argv: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Demo:
    url: str
    banner: str
    env: dict[str, str]


@contextmanager
def demo(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Demo]:
    """`rugzak demo ARGS` in its own folder, its state in tmp_path/state; stopped with SIGINT
    (Ctrl-C), which must end it, and everything it started, with exit code 0."""
    port = free_port()
    run_env = {
        **os.environ,
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
        "RUGZAK_DEMO_DIR": str(tmp_path / "state"),
        **(env or {}),
    }
    cwd = tmp_path / "run"
    cwd.mkdir(exist_ok=True)
    log_path = tmp_path / "demo.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", *args],
        cwd=cwd, env=run_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "Press Ctrl-C" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.2)
        banner = log_path.read_text()
        url = re.search(r"serving the citizen profile at (\S+)/graphql", banner)
        assert url is not None, banner
        yield Demo(url.group(1), banner, run_env)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    assert process.returncode == 0, log_path.read_text()


def ask(url: str, token: str | None, query: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url + "/graphql", json={"query": query}, headers=headers, timeout=30)


def test_demo_serves_the_profile_and_a_registry(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"  # `rugzak token` finds the demo's issuer from any folder
    elsewhere.mkdir()
    with demo(tmp_path) as running:
        url, env = running.url, running.env
        assert url.endswith(f":{env['PORT']}")  # PORT over the demo's own port = 4000
        token = rugzak("token", "--citizen", ANN, cwd=elsewhere, env=env)
        answer = ask(url, token, PROFILE_QUERY).json()
        assert "errors" not in answer, answer
        assert answer["data"]["me"]["insz"] == ANN
        registry_token = rugzak("token", "--registry", "--owner", "44021", cwd=elsewhere, env=env)
        listed = rugzak("registry", "list", "--gateway", url, "--token", registry_token,
                        cwd=elsewhere, env=env)  # fmt: skip
        assert "education" in listed and "ticketing" in listed and "transparency" in listed
        # the profile read above is in Ann's access log, as her own
        query = "{ me { accessLog(first: 5) { ownData categories outcome } } }"
        deadline = time.monotonic() + 10
        while True:
            log_answer = ask(url, token, query).json()
            assert "errors" not in log_answer, log_answer
            entries = log_answer["data"]["me"]["accessLog"]
            if any(e["ownData"] and "education" in e["categories"] for e in entries):
                break
            assert time.monotonic() < deadline, entries
            time.sleep(0.2)
        # GraphiQL works before a token is pasted in (introspection = "all" in demo.toml)
        assert "errors" not in ask(url, None, "{ __schema { queryType { name } } }").json()
    assert not (tmp_path / "run" / ".rugzak").exists()  # the state is in one place


def test_a_subgraph_developer_checks_the_gateways_calls_with_what_the_demo_prints(
    tmp_path: Path,
) -> None:
    """A municipality's subgraph, started next to the demo with the keys URL the banner prints,
    registered with the demo's registry, answers the gateway's calls (with a token the gateway
    minted for it) and refuses anybody else's."""
    with demo(tmp_path) as running:
        printed = re.search(r"keys:\s+(\S+/\.well-known/gateway-jwks\.json)", running.banner)
        assert printed is not None, running.banner
        subgraph_env = {**os.environ, "RUGZAK_GATEWAY_JWKS_URL": printed.group(1)}
        fixtures = ROOT / "tests" / "registry" / "fixtures"
        argv = ["-m", "tests.registry.subgraph_server", "--dir", str(fixtures)]
        with start_python_server(argv, "Gent's parking", subgraph_env, probe="/health") as gent:
            token = rugzak("token", "--registry", "--owner", "44021", cwd=tmp_path, env=running.env)
            rugzak(
                "registry", "add", "gent-parking", "--url", f"{gent.url}/parking_v1/graphql",
                "--gateway", running.url, "--token", token, cwd=tmp_path, env=running.env,
            )  # fmt: skip
            deadline = time.monotonic() + 10
            while (answer := ask(running.url, None, PARKING_QUERY).json()) != PARKING_ANSWER:
                assert time.monotonic() < deadline, answer
                time.sleep(0.2)
            # the same subgraph refuses a caller without the gateway's token
            direct = httpx.post(
                f"{gent.url}/parking_v1/graphql", json={"query": PARKING_QUERY}, timeout=10
            )
            assert direct.status_code == 401
            # and answers the developer who calls it with the token the banner says to mint
            printed = re.search(r"token --for-subgraph NAME --citizen (\d{11})", running.banner)
            assert printed is not None, running.banner
            minted = rugzak("token", "--for-subgraph", "gent-parking", "--citizen",
                            printed.group(1), cwd=tmp_path, env=running.env)  # fmt: skip
            as_gateway = httpx.post(
                f"{gent.url}/parking_v1/graphql", json={"query": PARKING_QUERY},
                headers={"authorization": f"Bearer {minted}"}, timeout=10,
            )  # fmt: skip
            assert as_gateway.status_code == 200 and as_gateway.json() == PARKING_ANSWER


def test_the_demo_takes_serves_options_a_config_file_and_fresh(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('expose-cache-status = true\nintrospection = "none"\n', encoding="utf-8")
    with demo(tmp_path, "--config", str(config), "--expose-cost") as running:
        response = ask(running.url, None, '{ municipality(nisCode: "44021") { name } }')
        body = response.json()
        assert body["data"] == {"municipality": {"name": "Gent"}}
        assert body["extensions"]["cacheStatus"]["status"] in ("HIT", "PARTIAL", "MISS")  # file
        assert body["extensions"]["cost"]["estimated"] >= 1  # flag
        refused = ask(running.url, None, "{ __schema { queryType { name } } }")
        assert refused.status_code == 403  # the file's introspection = "none" over demo.toml
        token = rugzak("token", "--citizen", ANN, cwd=tmp_path, env=running.env)
        report = (
            'mutation { reportTicket(input: {municipalityNisCode: "44021", category: '
            'LOOSE_PAVING_TILE, description: "Een losse tegel.", location: {street: '
            '"Veldstraat", postalCode: "9000", latitude: 51.05, longitude: 3.72}}) '
            "{ reference } }"
        )
        reported = ask(running.url, token, report).json()
        assert "errors" not in reported, reported
        reference = reported["data"]["reportTicket"]["reference"]
    mine = "{ me { tickets { reference } } }"
    with demo(tmp_path) as running:  # the data stays from one run to the next
        token = rugzak("token", "--citizen", ANN, cwd=tmp_path, env=running.env)
        tickets = ask(running.url, token, mine).json()["data"]["me"]["tickets"]
        assert reference in {t["reference"] for t in tickets}
    with demo(tmp_path, "--fresh") as running:  # and goes with --fresh; the issuer stays
        tickets = ask(running.url, token, mine).json()["data"]["me"]["tickets"]
        assert reference not in {t["reference"] for t in tickets}


def test_the_demo_refuses_to_be_told_what_it_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--supergraph", "other.graphql"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "RUGZAK_DEMO_DIR": str(tmp_path / "state")},
    )  # fmt: skip
    assert done.returncode == 1
    assert "supergraph is the demo's own" in done.stderr and "Traceback" not in done.stderr
