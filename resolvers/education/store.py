"""Reading the education store: batch lookups (one query per batch) and qualification pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.common.paging import Page, paginate
from resolvers.common.sqlite import Session, json_list


@dataclass(frozen=True, slots=True)
class InstitutionRecord:
    institution_number: str
    name: str
    kind: str
    nis_code: str


@dataclass(frozen=True, slots=True)
class QualificationRecord:
    id: int
    insz: str
    kind: str
    title: str
    programme: str
    institution_number: str
    issue_year: int
    issue_month: int | None
    issue_day: int | None
    vks_level: int
    status: str
    cancellation_reason: str | None


def load_qualifications(session: Session, inszs: Sequence[str]) -> list[list[QualificationRecord]]:
    """All qualifications of each citizen, newest first (by the known part of the issue date)."""
    rows = session.fetch_all(
        "SELECT id, insz, kind, title, programme, institution_number, issue_year, issue_month,"
        " issue_day, vks_level, status, cancellation_reason FROM qualification"
        " WHERE insz IN (SELECT value FROM json_each(?))"
        " ORDER BY insz, issue_year DESC, coalesce(issue_month, 0) DESC,"
        " coalesce(issue_day, 0) DESC, id",
        (json_list(inszs),),
    )
    by_citizen: dict[str, list[QualificationRecord]] = {insz: [] for insz in inszs}
    for row in rows:
        by_citizen[row["insz"]].append(QualificationRecord(*row))
    return [by_citizen[insz] for insz in inszs]


def load_institutions(session: Session, numbers: Sequence[str]) -> list[InstitutionRecord | None]:
    rows = session.fetch_all(
        "SELECT institution_number, name, kind, nis_code FROM institution"
        " WHERE institution_number IN (SELECT value FROM json_each(?))",
        (json_list(numbers),),
    )
    found = {row[0]: InstitutionRecord(*row) for row in rows}
    return [found.get(number) for number in numbers]


QUALIFICATION_CURSOR = "qualification"


def qualification_page(
    qualifications: Sequence[QualificationRecord],
    *,
    first: int,
    after: str | None,
    status: str | None,
) -> Page[QualificationRecord]:
    """One page of a citizen's qualifications, optionally only those with `status`.

    Raises InvalidInput for a page size outside 0-100 or a malformed cursor.
    """
    chosen = [q for q in qualifications if status is None or q.status == status]
    return paginate(QUALIFICATION_CURSOR, chosen, first, after)
