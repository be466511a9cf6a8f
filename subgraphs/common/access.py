"""Who may read what: the `@policy` groups the reference subgraphs put on personal fields.

The gateway enforces them before planning (gateway/policies.py defines the names). A group is an
AND, the list of groups an OR:

- `citizen-self`: the citizen the data is about, themselves. Every entity holding personal data
  declares whose data it is with `@dataSubject` (subgraphs/common/privacy.py): a Citizen by its
  INSZ, a Ticket by its reporter. The gateway checks each object of an answer against the caller,
  whichever field returned it (another subgraph may return a reference to anyone); on a root
  field it means "a citizen", and `citizen(insz:)` only with the caller's own INSZ.
- `purpose:<P>`: a civil servant who stated purpose P (e.g. a child-benefit case handler).
- `scope:<S>`: a token granting scope S (civil servants' applications get them per domain).
- `acr:<LEVEL>`: signed in at assurance level LEVEL or higher: `substantial` for personal data,
  `high` for a bank account number.

Subgraphs check again themselves (`require` below, and subgraphs/common/citizens.py), with the
same groups, against the principal the gateway asserts: the gateway's checks are the first line,
not the only one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auth.assurance import meets_acr
from subgraphs.common.errors import forbidden

ME = [["citizen-self"]]
"""`me`: only a citizen has a profile of their own."""

CITIZEN_LOOKUP = [["citizen-self"], ["staff"]]
"""`citizen(insz:)`: the citizen's own INSZ, or any civil servant (whose reads of personal fields
then need a purpose)."""

NAME = [["citizen-self", "acr:substantial"], ["staff", "purpose:*", "acr:substantial"]]
"""A citizen's name: the citizen, or a civil servant who states why they read (any purpose)."""


def personal(purpose: str, scope: str, acr: str = "substantial") -> list[list[str]]:
    """A personal field: the citizen themselves, or staff with `scope` who state `purpose`;
    both signed in at level `acr` or higher."""
    return [
        ["citizen-self", f"acr:{acr}"],
        [f"scope:{scope}", f"purpose:{purpose}", f"acr:{acr}"],
    ]


CHILD_BENEFIT = personal("child-benefit", "allowances:read")
BANK_ACCOUNT = personal("child-benefit", "allowances:read", "high")
STUDY_GRANT = personal("study-grant", "allowances:read")
EDUCATION = personal("education", "education:read")
TICKETS = personal("ticketing", "tickets:read")
TICKET_DETAILS = TICKETS
"""What a reporter wrote and was told (description, location, status notes, updates): the
reporter, or staff with scope and purpose (of the ticket's own municipality: ticketing checks)."""

AUDIT_READ_SCOPE = "audit:read"
ACCESS_LOG = [
    ["citizen-self", "acr:substantial"],
    ["staff", f"scope:{AUDIT_READ_SCOPE}", "purpose:*", "acr:substantial"],
]
"""Who read a citizen's personal data (the transparency subgraph's access log): the citizen, or a
civil servant with scope `audit:read` who states why (that read is logged in turn)."""

TICKETS_WRITE_SCOPE = "tickets:write"
TICKET_STATUS = [["staff", f"scope:{TICKETS_WRITE_SCOPE}", "acr:substantial"]]
"""Changing a ticket's status: a civil servant with scope `tickets:write`, signed in at level
substantial. Which tickets depends on the data: only those of their own municipality (the token's
`org` claim), which the ticketing subgraph checks."""


def allows(
    context: Any, groups: Sequence[Sequence[str]], subject: str | None, purpose: str | None = None
) -> bool:
    """Whether the caller meets any group (all of its policies) for data about `subject` (an
    INSZ; None: data about nobody in particular). `purpose` is what the caller stated."""
    principal = context.principal
    stated = purpose or principal.purpose or _stated_purpose(context)
    for group in groups:
        if all(_holds(name, principal, context.caller_insz, subject, stated) for name in group):
            return True
    return False


def require(
    context: Any,
    groups: Sequence[Sequence[str]],
    subject: str | None,
    what: str,
) -> None:
    """Refuses (FORBIDDEN) a caller who meets none of `groups` for `subject`'s data."""
    if not allows(context, groups, subject):
        raise forbidden(f"The caller may not read {what} of this citizen.")


PURPOSE_HEADER = "x-rugzak-purpose"


def _stated_purpose(context: Any) -> str | None:
    """The purpose the gateway forwards for a civil servant whose token names none (the header
    is covered by the gateway's signature on the request)."""
    request = getattr(context, "request", None)
    value = request.headers.get(PURPOSE_HEADER) if request is not None else None
    return value.strip() or None if value else None


def _holds(
    name: str, principal: Any, caller: str | None, subject: str | None, stated: str | None
) -> bool:
    family, _, parameter = name.partition(":")
    if name == "citizen-self":
        return bool(principal.is_citizen and caller is not None and caller == subject)
    if name == "staff":
        return bool(principal.is_staff)
    if family == "purpose":
        return bool(principal.is_staff and stated and (parameter == "*" or stated == parameter))
    if family == "acr":
        return meets_acr(principal.acr, parameter)
    if family == "scope":
        return bool(principal.has_scope(parameter))
    return False  # a policy this subgraph does not know refuses
