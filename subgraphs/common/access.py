"""Who may read what: the `@policy` groups the reference subgraphs put on personal fields.

The gateway enforces them before planning (gateway/policies.py defines the names). A group is an
AND, the list of groups an OR:

- `citizen-self`: the citizen themselves. `me` is always the caller; `citizen(insz:)` is only
  allowed with the caller's own INSZ; a citizen reaches Citizen fields only through those two, so
  on a Citizen field it means "a citizen, reading themselves".
- `purpose:<P>`: a civil servant who stated purpose P (e.g. a child-benefit case handler).
- `scope:<S>`: a token granting scope S (civil servants' applications get them per domain).
- `acr:<LEVEL>`: signed in at assurance level LEVEL or higher: `substantial` for personal data,
  `high` for a bank account number.

Subgraphs check identity again themselves (subgraphs/common/citizens.py): the gateway's checks
are the first line, not the only one.
"""

from __future__ import annotations

ME = [["citizen-self"]]
"""`me`: only a citizen has a profile of their own."""

CITIZEN_LOOKUP = [["citizen-self"], ["staff"]]
"""`citizen(insz:)`: the citizen's own INSZ, or any civil servant (whose reads of personal fields
then need a purpose)."""

NAME = [["citizen-self", "acr:substantial"], ["staff", "acr:substantial"]]
"""A citizen's name: the citizen, or any civil servant."""


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

TICKETS_WRITE_SCOPE = "tickets:write"
TICKET_STATUS = [["staff", f"scope:{TICKETS_WRITE_SCOPE}", "acr:substantial"]]
"""Changing a ticket's status: a civil servant with scope `tickets:write`, signed in at level
substantial. Which tickets depends on the data: only those of their own municipality (the token's
`org` claim), which the ticketing subgraph checks."""
