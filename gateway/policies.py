"""Named `@policy` checks in Python: given the caller, the field and its arguments, may they read?

A supergraph's `@policy(policies: [["citizen-self"], ["purpose:child-benefit", "acr:high"]])`
names policies; the gateway resolves each name here. Built in:

- `citizen-self`: a citizen (a token with an INSZ, not a staff token) reading their own data.
  Ownership is a property of the entity, not of the way to it: on a field of an entity whose type
  declares its data subject (`@dataSubject(fields: "insz")`, gateway/ownership), or of a value
  reached through such an entity, it holds only for the objects whose data subject is the caller,
  wherever they appear in the answer (the policy answers `SUBJECT_IS_CALLER`, and the gateway
  checks each object: gateway/ownership/guard.py). On a root field (`me`, `citizen(insz:)`) it
  means "a citizen", and a field's `insz` argument must be the caller's own INSZ (from the
  verified token, never from the client). Anywhere else (no data subject declared on the way) it
  refuses: nothing says whose data it is.
- `staff`: any civil servant (a token with the `staff` role).
- `purpose:<P>`: a civil servant who stated purpose P (token claim, or the purpose header when the
  token carries none); `purpose:*`: a civil servant who stated any purpose.
- `acr:<LEVEL>`: a caller authenticated at assurance level LEVEL or higher (low < substantial <
  high).
- `scope:<S>`: a token granting scope S. (Unlike `@requiresScopes`, it can sit in one group of a
  policy only: a civil servant needs the scope, the citizen reading themselves does not.)

Further policies come from configuration: a module whose `POLICIES` maps names to callables
(`rugzak serve --policy-module my.policies`). A name nobody defines refuses every caller: a typo in
a subgraph's directive must close a field, not open it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, Final, Literal

from auth.assurance import ACR_LEVELS, meets_acr
from auth.insz import normalize_insz
from auth.principal import Principal

log = logging.getLogger("rugzak.policies")

SELF_ARGUMENT = "insz"


class UnreadableArguments(Exception):
    """The field's arguments could not be coerced: no policy that reads them passes."""


class Ownership(Enum):
    SUBJECT_IS_CALLER = "subject-is-caller"


SUBJECT_IS_CALLER: Final = Ownership.SUBJECT_IS_CALLER
"""A policy's answer meaning "yes, for the objects whose data subject is the caller": the gateway
then checks each object of the answer (its declared data subject against the caller's INSZ)."""

Verdict = bool | Literal[Ownership.SUBJECT_IS_CALLER]


class FieldRequest:
    """What a policy looks at: the caller, the field (`Type.field`) and its coerced arguments
    (coerced only when a policy reads them), whether the field is a root field, and the type of
    the nearest entity on the way to it that declares a data subject (None: no such entity)."""

    __slots__ = (
        "_arguments",
        "_coerce",
        "coordinate",
        "declared",
        "on_root",
        "principal",
        "subject_type",
    )

    def __init__(
        self,
        principal: Principal,
        coordinate: str,
        arguments: Mapping[str, Any] | Callable[[], Mapping[str, Any] | None],
        declared: Iterable[str] | None = None,
        *,
        on_root: bool = False,
        subject_type: str | None = None,
    ) -> None:
        self.principal = principal
        self.coordinate = coordinate
        self.on_root = on_root
        self.subject_type = subject_type
        # the argument names the field declares (whether or not the client gave them)
        self.declared = frozenset(declared if declared is not None else ())
        self._arguments: Mapping[str, Any] | None = None
        self._coerce: Callable[[], Mapping[str, Any] | None] | None = None
        if callable(arguments):
            self._coerce = arguments
        else:
            self._arguments = arguments

    @property
    def arguments(self) -> Mapping[str, Any]:
        if self._arguments is None:
            coerced = self._coerce() if self._coerce else None
            if coerced is None:
                raise UnreadableArguments(self.coordinate)
            self._arguments = coerced
        return self._arguments


Policy = Callable[[FieldRequest], Verdict]
# a family of policies named `<family>:<parameter>`, e.g. `acr:high`
PolicyFamily = Callable[[str], Policy]


def citizen_self(request: FieldRequest) -> Verdict:
    principal = request.principal
    if not principal.is_citizen or principal.insz is None:
        return False
    if not request.on_root:
        return SUBJECT_IS_CALLER if request.subject_type is not None else False
    if SELF_ARGUMENT not in request.declared:
        return True
    asked = request.arguments[SELF_ARGUMENT]
    try:
        return isinstance(asked, str) and bool(normalize_insz(asked) == principal.insz)
    except ValueError:
        return False


def verdict(
    policies: PolicyRegistry, groups: Iterable[frozenset[str]], request: FieldRequest
) -> Verdict:
    """Any group (OR) of policies that all (AND) hold. A group holds outright, not at all, or
    only for objects whose data subject is the caller (when one of its policies says so)."""
    best: Verdict = False
    for group in groups:
        result: Verdict = True
        for name in group:
            answer = policies.resolve(name)(request)
            if answer is SUBJECT_IS_CALLER:
                result = SUBJECT_IS_CALLER
            elif not answer:
                result = False
                break
        if result is True:
            return True
        if result is SUBJECT_IS_CALLER:
            best = SUBJECT_IS_CALLER
    return best


def staff(request: FieldRequest) -> bool:
    return bool(request.principal.is_staff)


ANY_PURPOSE = "*"


def purpose(expected: str) -> Policy:
    if expected == ANY_PURPOSE:
        return _any_purpose

    def check(request: FieldRequest) -> bool:
        return request.principal.is_staff and request.principal.purpose == expected

    return check


def _any_purpose(request: FieldRequest) -> bool:
    return request.principal.is_staff and bool(request.principal.purpose)


def minimum_acr(level: str) -> Policy:
    if level not in ACR_LEVELS:
        raise ValueError(f"unknown assurance level {level!r}; use one of {', '.join(ACR_LEVELS)}")

    def check(request: FieldRequest) -> bool:
        return meets_acr(request.principal.acr, level)

    return check


BUILT_IN: dict[str, Policy] = {"citizen-self": citizen_self, "staff": staff}


def scope(name: str) -> Policy:
    if not name:
        raise ValueError("a scope policy names its scope: scope:<S>")

    def check(request: FieldRequest) -> bool:
        return request.principal.has_scope(name)

    return check


BUILT_IN_FAMILIES: dict[str, PolicyFamily] = {
    "purpose": purpose,
    "acr": minimum_acr,
    "scope": scope,
}


def _refuse(_request: FieldRequest) -> bool:
    return False


class PolicyRegistry:
    """Resolves policy names to checks: configured ones first, then the built-in ones."""

    def __init__(
        self,
        policies: Mapping[str, Policy] | None = None,
        families: Mapping[str, PolicyFamily] | None = None,
    ) -> None:
        self._named = {**BUILT_IN, **(policies or {})}
        self._families = {**BUILT_IN_FAMILIES, **(families or {})}
        self._resolved: dict[str, Policy] = {}

    def resolve(self, name: str) -> Policy:
        found = self._resolved.get(name)
        if found is None:
            found = self._lookup(name)
            self._resolved[name] = found
        return found

    def unknown(self, names: Iterable[str]) -> list[str]:
        """The names among `names` that no policy defines (each refuses every caller)."""
        return sorted(n for n in set(names) if self.resolve(n) is _refuse)

    def _lookup(self, name: str) -> Policy:
        if name in self._named:
            return self._named[name]
        family, sep, parameter = name.partition(":")
        if sep and family in self._families:
            try:
                return self._families[family](parameter)
            except ValueError as exc:
                log.warning("policy %r refuses every caller: %s", name, exc)
                return _refuse
        log.warning("policy %r is not defined: it refuses every caller", name)
        return _refuse


def load_policy_module(dotted: str) -> dict[str, Policy]:
    """The `POLICIES` mapping of a Python module given by its dotted name."""
    module = importlib.import_module(dotted)
    policies = getattr(module, "POLICIES", None)
    if not isinstance(policies, Mapping) or not all(
        isinstance(k, str) and callable(v) for k, v in policies.items()
    ):
        raise ValueError(f"module {dotted} must define POLICIES: a dict of name -> callable")
    return dict(policies)
