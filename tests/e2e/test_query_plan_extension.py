"""The query plan in the response, for people debugging a slow or surprising answer."""

from __future__ import annotations

import httpx

from tests.e2e.stack import ANN, PROFILE_QUERY, Stack, start_gateway


def ask(url: str, stack: Stack, plan_header: bool) -> dict[str, object]:
    headers = {"authorization": f"Bearer {stack.token(ANN)}"}
    if plan_header:
        headers["x-rugzak-query-plan"] = "true"
    response = httpx.post(url + "/graphql", json={"query": PROFILE_QUERY}, headers=headers)
    body: dict[str, object] = response.json()
    return body


def test_plan_is_returned_only_when_configured_and_asked(stack: Stack) -> None:
    assert "extensions" not in ask(stack.gateway.url, stack, plan_header=True)
    with start_gateway(stack.env, stack.subgraph_urls(), "--expose-query-plan") as gateway:
        assert "extensions" not in ask(gateway.url, stack, plan_header=False)
        body = ask(gateway.url, stack, plan_header=True)
    plan = body["extensions"]["queryPlan"]  # type: ignore[index]
    assert [(f["service"], f["kind"], f["path"]) for f in plan] == [
        ("allowances", "query", "(root)"),
        ("education", "query", "(root)"),
        ("ticketing", "entities", "me.qualifications.edges.node.institution.municipality"),
        ("ticketing", "query", "(root)"),
    ]
    assert plan[2]["dependsOn"] == [1]
    assert body["data"]["me"]["insz"] == ANN  # type: ignore[index]
