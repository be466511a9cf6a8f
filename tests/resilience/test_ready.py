"""/ready with nothing to serve: every subgraph unreachable makes the gateway unready (503), while
/health (liveness) stays 200."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.stack import SUBGRAPHS, auth_env, closed_port_url, start_gateway
from tests.resilience.harness import operator_headers, wait_for


def test_a_gateway_whose_subgraphs_are_all_down_is_unready_but_alive(tmp_path: Path) -> None:
    issuer, env = auth_env(tmp_path)
    urls = {name: closed_port_url() for name in SUBGRAPHS}
    with start_gateway(env, urls) as gateway:

        def unready() -> bool:
            return httpx.get(gateway.url + "/ready", timeout=5).status_code == 503

        assert wait_for(unready, 10) is not None
        headers = operator_headers(issuer)  # the details; anyone gets the status alone
        body = httpx.get(gateway.url + "/ready", headers=headers, timeout=5).json()
        health = httpx.get(gateway.url + "/health", timeout=5)
    assert body["status"] == "unready"
    for name in SUBGRAPHS:
        subgraph = body["subgraphs"][name]
        assert subgraph["state"] in ("down", "circuit_open")
        assert subgraph["lastCheck"]["outcome"] == "down"
        assert "connection refused" in subgraph["lastCheck"]["message"]
    assert health.status_code == 200
