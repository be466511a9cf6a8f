"""Field authorisation from @authenticated, @requiresScopes and @policy, before planning."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, print_schema

from auth.principal import ANONYMOUS, Principal
from gateway.authorization import AuthorizationResult, Authorizer
from gateway.execution.shaping import Shaper, compile_shape
from gateway.operation import normalize, select_operation
from gateway.planning import Planner, QueryPlan
from gateway.policies import PolicyRegistry
from gateway.schema.supergraph import Supergraph, load_supergraph

SG = load_supergraph((Path(__file__).parent / "supergraph_auth.graphql").read_text())
POLICIES = PolicyRegistry({"strong-auth": lambda r: r.principal.claims.get("acr") == "high"})

CLERK = Principal(subject="clerk", scopes=frozenset({"profile:read"}), claims={"acr": "low"})
AUDITOR = Principal(
    subject="auditor",
    scopes=frozenset({"admin", "allowances:read"}),
    claims={"acr": "high"},
)


def authorized(query: str, principal: Principal) -> tuple[AuthorizationResult, tuple[str, ...]]:
    document = parse(query)
    op = normalize(SG.api_schema, document, select_operation(document, None), {})
    authorized = Authorizer(SG, POLICIES).authorize(op, principal)
    return authorized, authorized.denied


def shaped(
    authorized: AuthorizationResult, data: dict[str, Any]
) -> tuple[Any, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    program = compile_shape(authorized.operation, authorized.denied_fields)
    return Shaper(errors).shape(program, data), errors


def plan(authorized: AuthorizationResult) -> QueryPlan:
    return Planner(SG).plan(authorized.operation, denied=authorized.denied_fields)


def test_directives_reach_the_supergraph_metadata_not_the_api_schema() -> None:
    assert SG.field_access[("Citizen", "email")].authenticated
    assert SG.field_access[("Query", "citizen")].scopes == (
        frozenset({"profile:read"}), frozenset({"admin"}),
    )  # fmt: skip
    assert SG.type_access["Allowance"].scopes == (frozenset({"allowances:read"}),)
    printed = print_schema(SG.api_schema)
    assert "requiresScopes" not in printed and "policy__" not in printed


def test_anonymous_caller_loses_the_guarded_fields_only() -> None:
    op, denied = authorized('{ me { insz name email } citizen(insz: "1") { name } }', ANONYMOUS)
    assert denied == ("/Query.me/Citizen.email", "/Query.citizen")
    data, errors = shaped(op, {"me": {"insz": "1", "name": "Ann"}})
    assert data == {"me": {"insz": "1", "name": "Ann", "email": None}, "citizen": None}
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["me", "email"], "UNAUTHORIZED_FIELD_OR_TYPE"),
        (["citizen"], "UNAUTHORIZED_FIELD_OR_TYPE"),
    ]


def test_scopes_are_any_of_all_of() -> None:
    _, clerk_denied = authorized('{ citizen(insz: "1") { name } }', CLERK)
    _, auditor_denied = authorized('{ citizen(insz: "1") { name } }', AUDITOR)
    assert clerk_denied == () and auditor_denied == ()


def test_a_denied_non_null_field_nulls_its_parent_and_spares_its_subgraph() -> None:
    query = "{ me { insz iban allowances { amountCents } } }"
    op, denied = authorized(query, CLERK)  # no strong auth, no allowances scope
    assert denied == ("/Query.me/Citizen.iban", "/Query.me/Citizen.allowances")
    assert [f.service for f in plan(op).fetches] == ["people"]  # money is not called at all
    data, errors = shaped(op, {"me": {"insz": "1"}})
    assert data == {"me": None}  # iban is String!: the null reaches the nearest nullable parent
    assert [e["path"] for e in errors] == [["me", "iban"], ["me", "allowances"]]


def test_a_subgraph_whose_root_fields_are_all_denied_is_not_called() -> None:
    op, denied = authorized('{ citizen(insz: "1") { name } }', ANONYMOUS)
    assert denied == ("/Query.citizen",)
    assert plan(op).fetches == ()  # no empty `query{}` goes out
    op, _ = authorized('{ me { name } citizen(insz: "1") { name } }', ANONYMOUS)
    (fetch,) = plan(op).fetches
    assert "citizen" not in fetch.document and "me" in fetch.document


@pytest.mark.parametrize("principal", [AUDITOR])
def test_a_caller_who_qualifies_keeps_everything(principal: Principal) -> None:
    op, denied = authorized("{ me { iban email allowances { amountCents } } }", principal)
    assert denied == ()
    assert [f.service for f in plan(op).fetches] == ["people", "money"]


def test_without_rules_the_operation_is_untouched() -> None:
    plain: Supergraph = load_supergraph(
        (Path(__file__).parent / "supergraph_reviews.graphql").read_text()
    )
    document = parse("{ me { name } }")
    op = normalize(plain.api_schema, document, select_operation(document, None), {})
    authorizer = Authorizer(plain)
    authorized = authorizer.authorize(op, ANONYMOUS)
    assert authorized.operation is op and authorized.denied == () and authorized.guard is None


async def test_reject_mode_refuses_the_whole_request() -> None:
    from gateway.execution.executor import Executor
    from gateway.execution.subgraph_client import SubgraphClient
    from gateway.pipeline.context import RequestContext
    from gateway.pipeline.handler import HandlerSettings, RequestHandler

    client = SubgraphClient()
    try:
        handler = RequestHandler(
            SG, Executor(client, {}), settings=HandlerSettings(reject_unauthorized=True)
        )
        response = await handler.handle(RequestContext("{ me { email } }", principal=ANONYMOUS))
    finally:
        await client.aclose()
    assert response.status == 403
    assert response.body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert "data" not in response.body


def test_nulls_a_subgraph_propagated_itself_get_no_second_error() -> None:
    # users: [User!]! is non-null: a subgraph that answered data: null with its own error
    # already explained the null; only an unexplained one gets "Cannot return null"
    plain = load_supergraph((Path(__file__).parent / "supergraph_reviews.graphql").read_text())
    document = parse("{ users { id } }")
    op = normalize(plain.api_schema, document, select_operation(document, None), {})
    explained: list[dict[str, Any]] = []
    program = compile_shape(op)
    assert Shaper(explained, explained=[["users"]]).shape(program, {}) is None
    assert explained == []
    unexplained: list[dict[str, Any]] = []
    assert Shaper(unexplained).shape(program, {}) is None
    assert [e["path"] for e in unexplained] == [["users"]]


def test_what_authorisation_learned_of_an_operation_does_not_keep_it_alive() -> None:
    authorizer = Authorizer(SG, POLICIES)
    document = parse("{ me { name iban allowances { amountCents } } }")
    op = normalize(SG.api_schema, document, select_operation(document, None), {})
    first = authorizer.authorize(op, CLERK)
    again = authorizer.authorize(op, CLERK)  # learned once, for as long as the operation lives
    assert first.denied and again == first and again.operation is first.operation
    operation, view = weakref.ref(op), weakref.ref(first.operation)
    del op, first, again
    gc.collect()
    assert operation() is None and view() is None
