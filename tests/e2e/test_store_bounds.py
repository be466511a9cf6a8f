"""Issue 14, point 5, over real HTTP: a stream of distinct operations fills every store the
gateway keeps up to its bound and no further (/metrics says what each holds and may hold).
bench/soak_memory.py runs the same traffic for minutes and watches RSS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.stack import Stack, start_gateway
from tests.servers import Server

OPTIONS = (
    "--plan-cache-entries", "50", "--plan-cache-size", "200KB", "--cache-size", "100KB",
    "--persisted-queries", "size=20KB,client-size=8KB",
    "--introspection", "all",  # anonymous introspection fills the introspection store
)  # fmt: skip
NIS_CODES = ("44021", "11002", "24062", "31005")


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[Server]:
    server = start_gateway(stack.env, stack.subgraph_urls(), *OPTIONS)
    try:
        yield server
    finally:
        server.stop()


def metrics(stack: Stack, server: Server) -> dict[str, float]:
    text = httpx.get(server.url + "/metrics", headers=stack.metrics_headers(), timeout=10).text
    values = {}
    for line in text.splitlines():
        if line.startswith("rugzak_") and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_distinct_operations_fill_each_store_to_its_bound_and_no_further(
    stack: Stack, gateway: Server
) -> None:
    url = gateway.url + "/graphql"

    def send(n: int) -> int:
        nis = NIS_CODES[n % len(NIS_CODES)]
        kind = n % 3
        if kind == 0:  # a new text: document, operation, plan, and a root answer cached
            body = {"query": f'{{ q{n}: municipality(nisCode: "{nis}") {{ name province }} }}'}
        elif kind == 1:  # a new persisted query
            text = f'{{ p{n}: municipality(nisCode: "{nis}") {{ name }} }}'
            digest = hashlib.sha256(text.encode()).hexdigest()
            persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
            body = {"query": text, "extensions": persisted}
        else:  # a new introspection query
            body = {
                "query": f'{{ __type(name: "Municipality") {{ i{n}: name fields {{ name }} }} }}'
            }
        return httpx.post(url, json=body, timeout=60).status_code

    with ThreadPoolExecutor(4) as pool:
        # each twice: an operation's entries are kept on its second sight (gateway/lru.py)
        statuses = list(pool.map(send, [n for n in range(300) for _ in range(2)]))
    assert set(statuses) == {200}
    found = metrics(stack, gateway)
    for cache in ("document", "operation", "plan"):
        label = f'{{cache="{cache}"}}'
        assert found[f"rugzak_operation_cache_entries{label}"] <= 50
        assert found[f"rugzak_operation_cache_bytes{label}"] <= 200 * 1024
        assert found[f"rugzak_operation_cache_evictions_total{label}"] > 0
        assert found[f"rugzak_operation_cache_declined_total{label}"] > 0
    for store in ("entities", "persisted_queries", "introspection"):
        label = f'{{store="{store}"}}'
        held, bound = found[f"rugzak_store_bytes{label}"], found[f"rugzak_store_max_bytes{label}"]
        assert 0 < held <= bound, (store, held, bound)
    # the persisted queries reached their bound: some were answered but not stored
    assert found['rugzak_persisted_queries_total{outcome="not_stored"}'] > 0
    assert found['rugzak_store_max_bytes{store="persisted_queries"}'] == 20 * 1024
