"""Moving a ticket along the workflow: a civil servant of its municipality changes its status.

The change is one transaction: the ticket's status and `updated_at`, a row in its status history
(with the civil servant's note, or the standard note for that status) and, for the statuses a
reporter is told about, a public update. Only the moves in `NEXT_STATUSES` are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers.common.errors import InvalidInput
from resolvers.common.sqlite import Session
from resolvers.ticketing.catalogue import NEXT_STATUSES, PUBLIC_UPDATES, STATUS_NOTES
from resolvers.ticketing.store import TicketRecord, load_tickets, timestamp

NOTE_MAX = 1000


class UnknownTicket(LookupError):
    """No ticket has this id."""


class NotResponsible(PermissionError):
    """The ticket belongs to another municipality than the civil servant's."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A committed change: the ticket before it, and the status it moved to."""

    before: TicketRecord
    status: str


def check_note(note: str | None) -> str | None:
    """The note as it will be stored (trimmed); InvalidInput when empty or too long."""
    if note is None:
        return None
    trimmed = note.strip()
    if not 0 < len(trimmed) <= NOTE_MAX:
        raise InvalidInput(f"The note must be 1 to {NOTE_MAX} characters when given.", field="note")
    return trimmed


def change_status(
    session: Session,
    ticket_id: str,
    status: str,
    note: str | None,
    municipality: str,
    now: datetime,
) -> StatusChange:
    """Move ticket `ticket_id` to `status` on behalf of a civil servant of `municipality`.

    Raises UnknownTicket, NotResponsible (another municipality's ticket) or InvalidInput (a move
    the workflow does not allow, a bad note); nothing is written then.
    """
    stored_note = check_note(note)
    with session.transaction():
        (ticket,) = load_tickets(session, [ticket_id])
        if ticket is None:
            raise UnknownTicket(ticket_id)
        if ticket.nis_code != municipality:
            raise NotResponsible(ticket_id)
        allowed = NEXT_STATUSES.get(ticket.status, ())
        if status not in allowed:
            after = ", ".join(allowed) if allowed else "none: it is final"
            raise InvalidInput(
                f"A ticket in status {ticket.status} cannot move to {status} (allowed: {after}).",
                field="status",
            )
        at = timestamp(now)
        session.execute(
            "UPDATE ticket SET status = ?, updated_at = ? WHERE id = ?", (status, at, ticket.id)
        )
        session.execute(
            "INSERT INTO ticket_status_change (ticket_id, status, at, note) VALUES (?, ?, ?, ?)",
            (ticket.id, status, at, stored_note or STATUS_NOTES[status]),
        )
        if status in PUBLIC_UPDATES:
            session.execute(
                "INSERT INTO ticket_update (ticket_id, at, message) VALUES (?, ?, ?)",
                (ticket.id, at, PUBLIC_UPDATES[status]),
            )
    return StatusChange(ticket, status)
