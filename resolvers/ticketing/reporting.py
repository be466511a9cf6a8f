"""Reporting a new ticket: validate the citizen's report, then store it as NEW with its history.

Validation collects every problem at once (a form can then show them all); each problem names
the input field at fault, in the GraphQL input's spelling (`municipalityNisCode`,
`location.latitude`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers.common.errors import InvalidInput
from resolvers.common.municipalities import (
    FLANDERS_MAX_LATITUDE,
    FLANDERS_MAX_LONGITUDE,
    FLANDERS_MIN_LATITUDE,
    FLANDERS_MIN_LONGITUDE,
    in_flanders,
)
from resolvers.common.sqlite import Session
from resolvers.ticketing.catalogue import (
    CATEGORIES,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    STATUS_NOTES,
    reference_for,
)
from resolvers.ticketing.store import load_municipalities, timestamp

STREET_MAX = 200
HOUSE_NUMBER_MAX = 12


@dataclass(frozen=True, slots=True)
class NewTicket:
    category: str
    description: str
    municipality_nis_code: str
    street: str
    house_number: str | None
    postal_code: str
    latitude: float
    longitude: float


class InvalidReport(InvalidInput):
    """One or more problems with a report; `problems` lists them all."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__(" ".join(p.message for p in problems), field=problems[0].field)
        self.problems = problems


def problems_with(session: Session, report: NewTicket) -> list[InvalidInput]:
    """Everything wrong with `report` (empty when it may be stored)."""
    problems: list[InvalidInput] = []
    if report.category not in CATEGORIES:
        problems.append(InvalidInput(f"Unknown category {report.category!r}.", field="category"))
    length = len(report.description.strip())
    if not DESCRIPTION_MIN <= length <= DESCRIPTION_MAX:
        problems.append(
            InvalidInput(
                f"The description must be {DESCRIPTION_MIN} to {DESCRIPTION_MAX} characters, "
                f"not {length}.",
                field="description",
            )
        )
    code = report.municipality_nis_code
    if not (code.isascii() and code.isdigit() and len(code) == 5) or load_municipalities(
        session, [code]
    ) == [None]:
        problems.append(
            InvalidInput(f"Unknown municipality NIS code {code!r}.", field="municipalityNisCode")
        )
    street = report.street.strip()
    if not street or len(street) > STREET_MAX:
        problems.append(
            InvalidInput(
                f"The street must be 1 to {STREET_MAX} characters.", field="location.street"
            )
        )
    if (
        report.house_number is not None
        and not 0 < len(report.house_number.strip()) <= HOUSE_NUMBER_MAX
    ):
        problems.append(
            InvalidInput(
                f"The house number must be 1 to {HOUSE_NUMBER_MAX} characters when given.",
                field="location.houseNumber",
            )
        )
    postal = report.postal_code.strip()
    if not (len(postal) == 4 and postal.isascii() and postal.isdigit() and postal[0] != "0"):
        problems.append(
            InvalidInput("The postal code must be 4 digits.", field="location.postalCode")
        )
    if not in_flanders(report.latitude, report.longitude):
        field = (
            "location.latitude"
            if not FLANDERS_MIN_LATITUDE <= report.latitude <= FLANDERS_MAX_LATITUDE
            else "location.longitude"
        )
        problems.append(
            InvalidInput(
                f"The location ({report.latitude}, {report.longitude}) lies outside Flanders "
                f"(latitude {FLANDERS_MIN_LATITUDE}-{FLANDERS_MAX_LATITUDE}, longitude "
                f"{FLANDERS_MIN_LONGITUDE}-{FLANDERS_MAX_LONGITUDE}).",
                field=field,
            )
        )
    return problems


def report_ticket(session: Session, reporter_insz: str, report: NewTicket, now: datetime) -> str:
    """Validate and store a report from `reporter_insz`; returns the new ticket's id.

    Raises InvalidReport listing every problem when the report is not acceptable.
    """
    problems = problems_with(session, report)
    if problems:
        raise InvalidReport(problems)
    at = timestamp(now)
    with session.transaction():
        row = session.fetch_one("SELECT coalesce(max(id), 0) + 1 FROM ticket")
        ticket_id = int(row[0]) if row is not None else 1
        session.execute(
            "INSERT INTO ticket (id, reference, reporter_insz, category, description, street,"
            " house_number, postal_code, latitude, longitude, nis_code, status, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'NEW', ?, ?)",
            (ticket_id, reference_for(ticket_id, now), reporter_insz, report.category,
             report.description.strip(), report.street.strip(),
             None if report.house_number is None else report.house_number.strip(),
             report.postal_code.strip(), report.latitude, report.longitude,
             report.municipality_nis_code, at, at),
        )  # fmt: skip
        session.execute(
            "INSERT INTO ticket_status_change (ticket_id, status, at, note)"
            " VALUES (?, 'NEW', ?, ?)",
            (ticket_id, at, STATUS_NOTES["NEW"]),
        )
    return str(ticket_id)
