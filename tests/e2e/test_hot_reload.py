"""Hot reload: a new supergraph file is served within seconds, without a restart, while requests
keep flowing; a broken one is refused and the last good supergraph serves on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import ANN, Stack, start_python_server
from tests.servers import Server
from tools.compose_supergraph import Subgraph, compose

STEADY = "{ municipalities { name } }"  # ticketing, readable by anyone
NEW_FIELD = "{ me { childBenefits { startDate } } }"  # allowances, only in the second version


def sdl_of(stack: Stack, name: str) -> str:
    body = stack.subgraph_post(name, "{ _service { sdl } }").json()
    return str(body["data"]["_service"]["sdl"])


def supergraph(stack: Stack, names: tuple[str, ...]) -> str:
    urls = stack.subgraph_urls()
    return compose([Subgraph(n, urls[n], sdl_of(stack, n)) for n in names])


def replace_file(path: Path, text: str) -> None:
    tmp = path.with_suffix(".new")
    tmp.write_text(text)
    tmp.replace(path)  # as deploy tools write: readers see the old file or the new one


class SteadyLoad:
    """Requests one after another on two threads; every answer must be a full, good one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(self.url, json={"query": STEADY})
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        self.failures.append(f"{response.status_code} {body}")
                    elif not body["data"]["municipalities"]:
                        self.failures.append(f"empty answer {body}")
                except (httpx.HTTPError, ValueError) as exc:
                    self.failures.append(repr(exc))
                self.sent += 1

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)


@pytest.fixture
def reloading_gateway(stack: Stack, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph(stack, ("education", "ticketing")))
    argv = ["-m", "gateway", "serve", "--supergraph", str(path), "--reload-interval", "0.2"]
    gateway = start_python_server(argv, "rugzak (reloading)", stack.env, probe="/health")
    try:
        yield gateway, path
    finally:
        gateway.stop()


def wait_for(condition: object, timeout: float = 15.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_new_supergraph_served_under_load_and_broken_one_refused(
    stack: Stack, reloading_gateway: tuple[Server, Path]
) -> None:
    gateway, path = reloading_gateway
    url = gateway.url + "/graphql"
    ann = {"authorization": f"Bearer {stack.token(ANN)}"}
    before = stack.query(NEW_FIELD, url=url, headers=ann).json()
    assert before["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    first_hash = httpx.get(gateway.url + "/health").json()["schemaHash"]

    with SteadyLoad(url) as load:
        time.sleep(0.5)
        replace_file(path, supergraph(stack, ("education", "allowances", "ticketing")))
        waited = wait_for(
            lambda: "errors" not in stack.query(NEW_FIELD, url=url, headers=ann).json()
        )
        answer = stack.query(NEW_FIELD, url=url, headers=ann).json()
        assert answer["data"]["me"]["childBenefits"], answer
        second_hash = httpx.get(gateway.url + "/health").json()["schemaHash"]
        assert second_hash != first_hash

        replace_file(path, "this is not a supergraph {")
        wait_for(lambda: "lastReloadError" in httpx.get(gateway.url + "/health").json())
        health = httpx.get(gateway.url + "/health").json()
        assert health["schemaHash"] == second_hash  # the last good one serves on
        assert "errors" not in stack.query(NEW_FIELD, url=url, headers=ann).json()
        time.sleep(0.5)

    assert load.sent > 20
    assert load.failures == []
    assert waited < 5.0
    metrics = httpx.get(gateway.url + "/metrics", headers=stack.metrics_headers()).text
    assert 'rugzak_schema_reloads_total{outcome="ok"} 1.0' in metrics
    assert 'rugzak_schema_reloads_total{outcome="refused"} 1.0' in metrics
