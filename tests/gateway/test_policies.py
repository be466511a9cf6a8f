"""The built-in @policy checks against the reference supergraph (schema.graphql): citizens read
only themselves, civil servants only with a purpose, bank accounts only at assurance level high."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from graphql.execution.values import get_variable_values

from auth.principal import ANONYMOUS, Principal
from gateway.authorization import Authorizer
from gateway.operation import normalize, select_operation
from gateway.policies import FieldRequest, PolicyRegistry, load_policy_module
from gateway.schema.supergraph import load_supergraph

SG = load_supergraph((Path(__file__).resolve().parents[2] / "schema.graphql").read_text())
ANN = "85671012385"
BRAM = "03621445638"


def citizen(insz: str, acr: str | None = "substantial") -> Principal:
    return Principal(subject=f"sub-{insz}", insz=insz, acr=acr, token="t")


ALL_SCOPES = frozenset({"allowances:read", "education:read", "tickets:read"})


def staff(
    purpose: str | None = None, acr: str = "substantial", scopes: frozenset[str] = ALL_SCOPES
) -> Principal:
    return Principal(
        subject="clerk",
        roles=frozenset({"staff"}),
        scopes=scopes,
        acr=acr,
        purpose=purpose,
        token="t",
    )


def denied(
    query: str,
    principal: Principal,
    variables: dict[str, Any] | None = None,
    registry: PolicyRegistry | None = None,
) -> tuple[str, ...]:
    document = parse(query)
    operation = select_operation(document, None)
    coerced = get_variable_values(
        SG.api_schema, operation.variable_definitions or (), variables or {}
    )
    assert not isinstance(coerced, list), coerced
    op = normalize(SG.api_schema, document, operation, coerced.coerced)
    return Authorizer(SG, registry).authorize(op, principal, coerced).denied


PROFILE = (
    "{ me { name { givenName } childBenefits { bankAccount } qualifications { totalCount } } }"
)


def test_a_citizen_reads_their_own_profile_but_bank_accounts_need_level_high() -> None:
    assert denied(PROFILE, citizen(ANN)) == (
        "/Query.me/Citizen.childBenefits/ChildBenefitEntitlement.bankAccount",
    )
    assert denied(PROFILE, citizen(ANN, acr="high")) == ()


def test_a_citizen_at_level_low_reads_no_personal_field() -> None:
    assert denied(PROFILE, citizen(ANN, acr="low")) == (
        "/Query.me/Citizen.name",
        "/Query.me/Citizen.childBenefits",
        "/Query.me/Citizen.qualifications",
    )


@pytest.mark.parametrize("written", [ANN, "85.67.10-123.85", "85671012385"])
def test_citizen_by_insz_is_allowed_with_the_callers_own_number(written: str) -> None:
    assert denied(f'{{ citizen(insz: "{written}") {{ insz }} }}', citizen(ANN)) == ()


def test_citizen_by_insz_refuses_someone_elses_number_literal_or_variable() -> None:
    assert denied(f'{{ citizen(insz: "{BRAM}") {{ insz }} }}', citizen(ANN)) == ("/Query.citizen",)
    query = "query($who: ID!) { citizen(insz: $who) { insz } }"
    assert denied(query, citizen(ANN), {"who": BRAM}) == ("/Query.citizen",)
    assert denied(query, citizen(ANN), {"who": ANN}) == ()
    assert denied(query, citizen(ANN), {"who": "not an insz"}) == ("/Query.citizen",)


def test_aliases_do_not_smuggle_a_second_citizen() -> None:
    query = (
        f'{{ mine: citizen(insz: "{ANN}") {{ insz }} theirs: citizen(insz: "{BRAM}") {{ insz }} }}'
    )
    assert denied(query, citizen(ANN)) == ("/Query.theirs",)


def test_anonymous_and_staff_have_no_me() -> None:
    assert denied("{ me { insz } }", ANONYMOUS) == ("/Query.me",)
    assert denied("{ me { insz } }", staff("child-benefit")) == ("/Query.me",)
    assert denied(f'{{ citizen(insz: "{ANN}") {{ insz }} }}', ANONYMOUS) == ("/Query.citizen",)


def test_staff_read_what_their_purpose_allows() -> None:
    query = (
        f'{{ citizen(insz: "{BRAM}") {{ name {{ givenName }} childBenefits {{ id }}'
        " studyGrantApplications { id } tickets { id } } }"
    )
    everything_personal = (
        "/Query.citizen/Citizen.childBenefits",
        "/Query.citizen/Citizen.studyGrantApplications",
        "/Query.citizen/Citizen.tickets",
    )
    # without a purpose, not even the name (issue 13: no enumeration of who is who)
    assert denied(query, staff()) == ("/Query.citizen/Citizen.name", *everything_personal)
    assert denied(query, staff("child-benefit")) == everything_personal[1:]
    assert denied(query, staff("study-grant")) == (everything_personal[0], everything_personal[2])
    assert denied(query, staff("child-benefit", acr="low")) == (
        "/Query.citizen/Citizen.name",
        *everything_personal,
    )
    # the purpose is not enough without the scope, nor the scope without the purpose
    assert denied(query, staff("child-benefit", scopes=frozenset())) == everything_personal
    assert denied(query, staff("ticketing", scopes=frozenset({"allowances:read"}))) == (
        everything_personal
    )


def test_configured_policies_and_unknown_names() -> None:
    registry = PolicyRegistry({"citizen-self": lambda r: r.principal.subject == "sub-" + BRAM})
    # a configured policy replaces the built-in one of the same name
    assert denied("{ me { insz } }", citizen(BRAM), registry=registry) == ()
    assert denied("{ me { insz } }", citizen(ANN), registry=registry) == ("/Query.me",)
    names = ["acr:high", "acr:extreme", "purpose:x", "scope:", "nobody-defines-me"]
    assert registry.unknown(names) == ["acr:extreme", "nobody-defines-me", "scope:"]
    request = FieldRequest(citizen(ANN, acr="high"), "Query.me", {})
    assert not registry.resolve("acr:extreme")(request)
    assert registry.resolve("acr:high")(request)


def test_a_policy_module_is_loaded_by_name() -> None:
    policies = load_policy_module("tests.gateway.policy_module_example")
    assert set(policies) == {"municipal-staff"}
    with pytest.raises(ValueError, match="POLICIES"):
        load_policy_module("tests.gateway.test_policies")
