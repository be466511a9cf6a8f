"""Kinds of callers for authorisation tests: their tokens, and an oracle of what each may read.

The oracle reads the reference supergraph's `@policy`, `@requiresScopes` and `@authenticated`
directives itself, with graphql-core, and evaluates the built-in policy names independently of
gateway/policies.py, so a mistake in the gateway's reading of the rules cannot hide in the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    parse,
    value_from_ast_untyped,
)

from auth.dev_issuer import DevIssuer
from tests.e2e.stack import ANN, BRAM, SUPERGRAPH

LEVELS = ("low", "substantial", "high")


@dataclass(frozen=True)
class Caller:
    """Who asks: nobody, a citizen, or a civil servant."""

    name: str
    insz: str | None = None
    staff: bool = False
    acr: str | None = None
    scopes: frozenset[str] = frozenset()
    purpose: str | None = None

    def token(self, issuer: DevIssuer) -> str | None:
        if self.insz is None and not self.staff:
            return None
        claims: dict[str, Any] = {}
        if self.acr:
            claims["acr"] = self.acr
        if self.staff:
            claims["roles"] = ["staff"]
            claims["org"] = "44021"
        if self.purpose:
            claims["purpose"] = self.purpose
        return issuer.mint(
            subject=f"test-{self.name}", insz=self.insz, scopes=sorted(self.scopes),
            extra_claims=claims,
        )  # fmt: skip

    def headers(self, issuer: DevIssuer) -> dict[str, str]:
        token = self.token(issuer)
        return {"authorization": f"Bearer {token}"} if token else {}

    def satisfies(self, policy: str, arguments: Mapping[str, Any]) -> bool:
        family, _, parameter = policy.partition(":")
        if policy == "citizen-self":
            if self.staff or self.insz is None:
                return False
            asked = arguments.get("insz", self.insz)
            digits = "".join(c for c in str(asked) if c.isdigit())
            return digits == self.insz
        if policy == "staff":
            return self.staff
        if family == "purpose":
            return self.staff and self.purpose == parameter
        if family == "acr":
            return self.acr in LEVELS and LEVELS.index(self.acr) >= LEVELS.index(parameter)
        if family == "scope":
            return parameter in self.scopes
        return False


ANONYMOUS = Caller("anonymous")
ANN_SUBSTANTIAL = Caller("ann", insz=ANN, acr="substantial")
ANN_LOW = Caller("ann-low", insz=ANN, acr="low")
ANN_HIGH = Caller("ann-high", insz=ANN, acr="high")
BRAM_SUBSTANTIAL = Caller("bram", insz=BRAM, acr="substantial")
CLERK_NO_SCOPE = Caller("clerk", staff=True, acr="substantial", purpose="child-benefit")
CLERK_NO_PURPOSE = Caller(
    "clerk-no-purpose", staff=True, acr="substantial", scopes=frozenset({"allowances:read"})
)
CHILD_BENEFIT_CLERK = Caller(
    "child-benefit-clerk", staff=True, acr="high", scopes=frozenset({"allowances:read"}),
    purpose="child-benefit",
)  # fmt: skip
EDUCATION_CLERK = Caller(
    "education-clerk", staff=True, acr="substantial",
    scopes=frozenset({"allowances:read", "education:read", "tickets:read"}), purpose="education",
)  # fmt: skip
CALLERS = (
    ANONYMOUS, ANN_SUBSTANTIAL, ANN_LOW, ANN_HIGH, BRAM_SUBSTANTIAL, CLERK_NO_SCOPE,
    CLERK_NO_PURPOSE, CHILD_BENEFIT_CLERK, EDUCATION_CLERK,
)  # fmt: skip


@dataclass
class Rule:
    authenticated: bool = False
    scopes: list[list[str]] = field(default_factory=list)
    policies: list[list[str]] = field(default_factory=list)

    def allows(self, caller: Caller, arguments: Mapping[str, Any]) -> bool:
        signed_in = caller.insz is not None or caller.staff
        if self.authenticated and not signed_in:
            return False
        if self.scopes and not any(all(s in caller.scopes for s in g) for g in self.scopes):
            return False
        return not self.policies or any(
            all(caller.satisfies(p, arguments) for p in group) for group in self.policies
        )


def _rule(directives: tuple[DirectiveNode, ...]) -> Rule | None:
    rule = Rule()
    found = False
    for directive in directives:
        name = directive.name.value
        args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
        if name == "authenticated":
            rule.authenticated = found = True
        elif name == "requiresScopes":
            rule.scopes, found = args["scopes"], True
        elif name == "policy":
            rule.policies, found = args["policies"], True
    return rule if found else None


def read_rules() -> tuple[dict[tuple[str, str], Rule], dict[str, Rule]]:
    """(type, field) -> rule and type -> rule, from the supergraph's directives."""
    fields: dict[tuple[str, str], Rule] = {}
    types: dict[str, Rule] = {}
    for definition in parse(SUPERGRAPH.read_text()).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        type_rule = _rule(definition.directives or ())
        if type_rule:
            types[definition.name.value] = type_rule
        for f in definition.fields or ():
            rule = _rule(f.directives or ())
            if rule:
                fields[(definition.name.value, f.name.value)] = rule
    return fields, types
