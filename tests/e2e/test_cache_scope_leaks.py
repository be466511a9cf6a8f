"""The entity cache never hands a field to a caller who may not read it: a civil servant without
the scope (or without the purpose) gets null and an error where a colleague's answer is cached."""

from __future__ import annotations

from typing import Any

from tests.e2e.stack import ANN, Stack

QUERY = '{ citizen(insz: "' + ANN + '") { tickets { reference status } } }'


def staff(
    stack: Stack, subject: str, scopes: tuple[str, ...], purpose: str | None
) -> dict[str, str]:
    token = stack.issuer.mint(
        subject=subject,
        scopes=scopes,
        roles=("staff",),
        organisation="44021",
        acr="substantial",
        purpose=purpose,
    )
    return {"authorization": f"Bearer {token}"}


def ask(stack: Stack, headers: dict[str, str]) -> tuple[dict[str, Any], int]:
    response = stack.query(QUERY, headers=headers)
    return response.json(), int(response.headers["x-subgraph-requests"])


def test_a_cached_field_is_not_served_to_a_caller_who_may_not_read_it(stack: Stack) -> None:
    allowed = staff(stack, "clerk-with-scope", ("tickets:read",), "ticketing")
    first, _ = ask(stack, allowed)
    assert first["data"]["citizen"]["tickets"], first
    again, requests = ask(stack, allowed)
    assert again == first and requests == 0  # from the cache now

    for headers in (
        staff(stack, "clerk-without-scope", (), "ticketing"),
        staff(stack, "clerk-without-purpose", ("tickets:read",), None),
        staff(stack, "clerk-other-purpose", ("tickets:read",), "child-benefit"),
    ):
        body, _ = ask(stack, headers)
        assert body["data"]["citizen"] is None or body["data"]["citizen"]["tickets"] is None, body
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert "UNAUTHORIZED_FIELD_OR_TYPE" in codes, body

    # a colleague who may read it gets the same data, fetched for them (private entries)
    colleague, requests = ask(stack, staff(stack, "other-clerk", ("tickets:read",), "ticketing"))
    assert colleague == first and requests >= 1
