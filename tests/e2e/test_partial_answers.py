"""One subgraph down or slow: the rest of the profile still comes back, with errors at the
paths that subgraph owns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.stack import ANN, PROFILE_QUERY, Stack, black_hole, closed_port_url, start_gateway

# which top-level profile fields each subgraph answers
OWNED = {
    "education": {"qualifications"},
    "allowances": {"childBenefits", "studyGrantApplications"},
    "ticketing": {"tickets"},
}


def ask(url: str, stack: Stack) -> dict[str, Any]:
    response = httpx.post(
        url + "/graphql",
        json={"query": PROFILE_QUERY},
        headers={"authorization": f"Bearer {stack.token(ANN)}"},
        timeout=30,
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("down", sorted(OWNED))
def test_profile_survives_a_subgraph_that_is_down(stack: Stack, down: str) -> None:
    urls = {**stack.subgraph_urls(), down: closed_port_url()}
    with start_gateway(stack.env, urls) as gateway:
        body = ask(gateway.url, stack)
    me = body["data"]["me"]
    assert me is not None and me["insz"] == ANN
    for subgraph, fields in OWNED.items():
        for name in fields:
            if subgraph == down:
                assert me[name] is None
            else:
                assert me[name], f"{name} from {subgraph} should still be there"
    assert body["errors"]
    for error in body["errors"]:
        assert error["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
        assert error["extensions"]["service"] == down
        assert error["path"][0] == "me"
    assert {tuple(e["path"][:2]) for e in body["errors"]} >= {("me", f) for f in OWNED[down]}


def test_a_slow_subgraph_times_out_and_only_its_part_is_missing(stack: Stack) -> None:
    with black_hole() as hanging:
        urls = {**stack.subgraph_urls(), "ticketing": hanging}
        with start_gateway(stack.env, urls, "--subgraph-timeout", "ticketing=0.5") as gateway:
            body = ask(gateway.url, stack)
    me = body["data"]["me"]
    assert me["tickets"] is None
    assert me["qualifications"]["totalCount"] >= 2 and me["childBenefits"]
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"SUBREQUEST_TIMEOUT"}
    # the municipality names of Ann's institutions also come from ticketing
    paths = [e["path"] for e in body["errors"]]
    assert ["me", "tickets"] in paths
    assert any(p[:2] == ["me", "qualifications"] and p[-1] == "name" for p in paths)
