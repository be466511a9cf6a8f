"""Anonymous requests take turns (issue 13, point 5: no anonymous request stalls the gateway),
over a real gateway whose ticketing subgraph hangs: anonymous requests wait in line, a full line
is refused with 503 GATEWAY_BUSY and Retry-After, callers with a token never wait, and a client
that leaves the line gives its place back. The hostile-load figures are measured in
bench/hostile_load.py, not here."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.stack import ANN, Stack, black_hole, start_gateway
from tests.security.helpers import metrics

HANGS = {"query": "{ municipalities { name } }"}  # from the ticketing subgraph
FLAGS = ("--priority", "concurrency=1,per-address=1,queue=1,yield=0.25")


def post(url: str, body: dict[str, str], headers: dict[str, str] | None = None,
         timeout: float = 30) -> httpx.Response:  # fmt: skip
    return httpx.post(url + "/graphql", json=body, headers=headers or {}, timeout=timeout)


def test_anonymous_requests_take_turns_and_a_full_line_is_refused(stack: Stack) -> None:
    with black_hole() as hanging, ThreadPoolExecutor(4) as pool:
        urls = {**stack.subgraph_urls(), "ticketing": hanging}
        flags = (*FLAGS, "--subgraph-timeout", "ticketing=2")
        with start_gateway(stack.env, urls, *flags) as gateway:
            first = pool.submit(post, gateway.url, HANGS)  # in service for 2 s
            time.sleep(0.3)
            second = pool.submit(post, gateway.url, HANGS)  # waits in line
            time.sleep(0.3)
            refused = post(gateway.url, HANGS)  # the line (1) is full
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            (error,) = refused.json()["errors"]
            assert error["extensions"]["code"] == "GATEWAY_BUSY"
            # a caller with a token is not in that line
            started = time.monotonic()
            headers = {"authorization": f"Bearer {stack.token(ANN)}"}
            ann = post(gateway.url, {"query": "{ __typename }"}, headers)
            assert ann.status_code == 200 and ann.json() == {"data": {"__typename": "Query"}}
            assert time.monotonic() - started < 1.5
            assert not second.done()
            for answer in (first.result(), second.result()):  # one after the other
                assert answer.status_code == 200
                codes = {e["extensions"]["code"] for e in answer.json()["errors"]}
                assert codes == {"SUBREQUEST_TIMEOUT"}
            counted = metrics(gateway.url, stack.issuer)
            assert counted["rugzak_anonymous_busy_total"] == 1
            assert counted["rugzak_anonymous_in_service"] == 0
            assert counted["rugzak_anonymous_waiting"] == 0
            assert counted['rugzak_gc_passes_total{kind="young"}'] >= 1


def test_a_client_that_leaves_the_line_gives_its_place_back(stack: Stack) -> None:
    with black_hole() as hanging, ThreadPoolExecutor(4) as pool:
        urls = {**stack.subgraph_urls(), "ticketing": hanging}
        flags = (*FLAGS, "--subgraph-timeout", "ticketing=1.5")
        with start_gateway(stack.env, urls, *flags) as gateway:
            holder = pool.submit(post, gateway.url, HANGS)
            time.sleep(0.3)
            try:  # waits in line, then hangs up
                post(gateway.url, HANGS, timeout=0.5)
                raise AssertionError("should have waited in line")
            except httpx.ReadTimeout:
                pass
            assert holder.result().status_code == 200
            # its address is not held back by a place it never gave back
            answer = post(gateway.url, {"query": "{ __typename }"}, timeout=5)
            assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}
            counted = metrics(gateway.url, stack.issuer)
            assert counted["rugzak_anonymous_in_service"] == 0
            assert counted["rugzak_anonymous_waiting"] == 0
