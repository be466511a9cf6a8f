"""Reading the ticketing store: batch lookups, one query per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from resolvers.common.sqlite import Session, json_list
from resolvers.ticketing.catalogue import CLOSED_STATUSES


@dataclass(frozen=True, slots=True)
class MunicipalityRecord:
    nis_code: str
    name: str
    province: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    reference: str
    reporter_insz: str
    category: str
    description: str
    street: str
    house_number: str | None
    postal_code: str
    latitude: float
    longitude: float
    nis_code: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    ticket_id: int
    status: str
    at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    ticket_id: int
    at: datetime
    message: str


def timestamp(moment: datetime) -> str:
    """How the store writes a moment: UTC, ISO 8601, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


TICKET_COLUMNS = (
    "id, reference, reporter_insz, category, description, street, house_number, postal_code,"
    " latitude, longitude, nis_code, status, created_at, updated_at"
)


def _ticket(row: Sequence[Any]) -> TicketRecord:
    # a row of TICKET_COLUMNS, in TicketRecord's field order; SQLite gives untyped values
    values = list(row)
    values[12] = datetime.fromisoformat(str(values[12]))
    values[13] = datetime.fromisoformat(str(values[13]))
    return TicketRecord(*values)


def _ticket_ids(keys: Sequence[str]) -> list[int]:
    return [int(key) for key in keys if key.isascii() and key.isdigit()]


def load_tickets(session: Session, ids: Sequence[str]) -> list[TicketRecord | None]:
    """Tickets by id (the GraphQL ID, a string); None for an unknown or malformed id."""
    rows = session.fetch_all(
        f"SELECT {TICKET_COLUMNS} FROM ticket WHERE id IN (SELECT value FROM json_each(?))",
        (json_list(_ticket_ids(ids)),),
    )
    found = {str(row[0]): _ticket(row) for row in rows}
    return [found.get(key) for key in ids]


def load_tickets_by_reporter(session: Session, inszs: Sequence[str]) -> list[list[TicketRecord]]:
    """Each citizen's reports, newest first."""
    rows = session.fetch_all(
        f"SELECT {TICKET_COLUMNS} FROM ticket"
        " WHERE reporter_insz IN (SELECT value FROM json_each(?))"
        " ORDER BY reporter_insz, created_at DESC, id DESC",
        (json_list(inszs),),
    )
    found: dict[str, list[TicketRecord]] = {insz: [] for insz in inszs}
    for row in rows:
        found[row[2]].append(_ticket(row))
    return [found[insz] for insz in inszs]


def load_status_history(session: Session, ids: Sequence[int]) -> list[list[StatusChangeRecord]]:
    """Each ticket's status changes, oldest first."""
    rows = session.fetch_all(
        "SELECT ticket_id, status, at, note FROM ticket_status_change"
        " WHERE ticket_id IN (SELECT value FROM json_each(?)) ORDER BY ticket_id, at, id",
        (json_list(ids),),
    )
    found: dict[int, list[StatusChangeRecord]] = {key: [] for key in ids}
    for r in rows:
        found[r[0]].append(StatusChangeRecord(r[0], r[1], datetime.fromisoformat(r[2]), r[3]))
    return [found[key] for key in ids]


def load_updates(session: Session, ids: Sequence[int]) -> list[list[UpdateRecord]]:
    """Each ticket's public updates, oldest first."""
    rows = session.fetch_all(
        "SELECT ticket_id, at, message FROM ticket_update"
        " WHERE ticket_id IN (SELECT value FROM json_each(?)) ORDER BY ticket_id, at, id",
        (json_list(ids),),
    )
    found: dict[int, list[UpdateRecord]] = {key: [] for key in ids}
    for r in rows:
        found[r[0]].append(UpdateRecord(r[0], datetime.fromisoformat(r[1]), r[2]))
    return [found[key] for key in ids]


def load_municipalities(
    session: Session, nis_codes: Sequence[str]
) -> list[MunicipalityRecord | None]:
    rows = session.fetch_all(
        "SELECT nis_code, name, province, postal_code FROM municipality"
        " WHERE nis_code IN (SELECT value FROM json_each(?))",
        (json_list(nis_codes),),
    )
    found = {row[0]: MunicipalityRecord(*row) for row in rows}
    return [found.get(code) for code in nis_codes]


def all_municipalities(session: Session) -> list[MunicipalityRecord]:
    """Every municipality, by name."""
    rows = session.fetch_all(
        "SELECT nis_code, name, province, postal_code FROM municipality ORDER BY name"
    )
    return [MunicipalityRecord(*row) for row in rows]


def load_open_ticket_counts(session: Session, nis_codes: Sequence[str]) -> list[int]:
    """How many tickets are open (not resolved, closed or cancelled) per municipality."""
    closed = sorted(CLOSED_STATUSES)
    rows = session.fetch_all(
        "SELECT nis_code, count(*) FROM ticket"
        " WHERE nis_code IN (SELECT value FROM json_each(?))"
        " AND status NOT IN (SELECT value FROM json_each(?)) GROUP BY nis_code",
        (json_list(nis_codes), json_list(closed)),
    )
    counts = {row[0]: int(row[1]) for row in rows}
    return [counts.get(code, 0) for code in nis_codes]
