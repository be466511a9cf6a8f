"""Access-log entries for store tests: synthetic, with INSZs that can never be a real person's."""

from __future__ import annotations

import uuid

from gateway.audit.entry import AccessEntry

ANN = "85671012385"
BRAM = "03621445638"


def entry(
    subject: str | None = ANN, at_us: int = 1_700_000_000_000_000, **extra: object
) -> AccessEntry:
    fields: dict[str, object] = {
        "entry_id": uuid.uuid4().hex,
        "at_us": at_us,
        "subject": subject,
        "caller": "civil-servant-1",
        "role": "civil-servant",
        "own": False,
        "organisation": "44021",
        "application": "groeipakket-app",
        "purpose": "child-benefit",
        "assurance": "substantial",
        "categories": ("child-benefit",),
        "fields": ("Citizen.childBenefits",),
        "refused": (),
        "operation": "a" * 64,
        "request_id": uuid.uuid4().hex,
        "outcome": "answered",
    }
    fields.update(extra)
    return AccessEntry(**fields)  # type: ignore[arg-type]
