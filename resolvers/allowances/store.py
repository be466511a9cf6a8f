"""Reading the allowances store: batch lookups, one query per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from resolvers.common.sqlite import Session, json_list


@dataclass(frozen=True, slots=True)
class EntitlementRecord:
    id: int
    insz: str
    child_given_name: str
    child_birth_date: date
    paying_body: str
    start_date: date
    bank_account: str


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    entitlement_id: int
    category: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class BenefitPaymentRecord:
    id: int
    entitlement_id: int
    category: str
    amount_cents: int
    payment_date: date
    period: str


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: int
    reference: str
    insz: str
    academic_year: str
    institution_number: str
    programme: str
    submitted_on: date
    status: str
    outcome: str | None
    amount_cents: int | None
    reason: str | None
    decided_on: date | None


@dataclass(frozen=True, slots=True)
class GrantPaymentRecord:
    id: int
    application_id: int
    amount_cents: int
    payment_date: date


def load_entitlements(session: Session, inszs: Sequence[str]) -> list[list[EntitlementRecord]]:
    """Each citizen's Groeipakket entitlements (as the receiving parent), oldest child first."""
    rows = session.fetch_all(
        "SELECT id, insz, child_given_name, child_birth_date, paying_body, start_date,"
        " bank_account FROM child_benefit WHERE insz IN (SELECT value FROM json_each(?))"
        " ORDER BY insz, child_birth_date, id",
        (json_list(inszs),),
    )
    found: dict[str, list[EntitlementRecord]] = {insz: [] for insz in inszs}
    for r in rows:
        found[r[1]].append(
            EntitlementRecord(
                r[0], r[1], r[2], date.fromisoformat(r[3]), r[4], date.fromisoformat(r[5]), r[6]
            )
        )
    return [found[insz] for insz in inszs]


def load_components(session: Session, ids: Sequence[int]) -> list[list[ComponentRecord]]:
    rows = session.fetch_all(
        "SELECT entitlement_id, category, amount_cents FROM child_benefit_component"
        " WHERE entitlement_id IN (SELECT value FROM json_each(?))"
        " ORDER BY entitlement_id, category",
        (json_list(ids),),
    )
    found: dict[int, list[ComponentRecord]] = {key: [] for key in ids}
    for r in rows:
        found[r[0]].append(ComponentRecord(r[0], r[1], r[2]))
    return [found[key] for key in ids]


def load_benefit_payments(session: Session, ids: Sequence[int]) -> list[list[BenefitPaymentRecord]]:
    """The payments of each entitlement, newest first."""
    rows = session.fetch_all(
        "SELECT id, entitlement_id, category, amount_cents, payment_date, period"
        " FROM child_benefit_payment WHERE entitlement_id IN (SELECT value FROM json_each(?))"
        " ORDER BY entitlement_id, payment_date DESC, id DESC",
        (json_list(ids),),
    )
    found: dict[int, list[BenefitPaymentRecord]] = {key: [] for key in ids}
    for r in rows:
        found[r[1]].append(
            BenefitPaymentRecord(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), r[5])
        )
    return [found[key] for key in ids]


def load_applications(session: Session, inszs: Sequence[str]) -> list[list[ApplicationRecord]]:
    """Each citizen's study grant applications, newest academic year first."""
    rows = session.fetch_all(
        "SELECT id, reference, insz, academic_year, institution_number, programme, submitted_on,"
        " status, outcome, amount_cents, reason, decided_on FROM study_grant_application"
        " WHERE insz IN (SELECT value FROM json_each(?))"
        " ORDER BY insz, academic_year DESC, id DESC",
        (json_list(inszs),),
    )
    found: dict[str, list[ApplicationRecord]] = {insz: [] for insz in inszs}
    for r in rows:
        found[r[2]].append(
            ApplicationRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], date.fromisoformat(r[6]), r[7], r[8], r[9],
                r[10], None if r[11] is None else date.fromisoformat(r[11]),
            )
        )  # fmt: skip
    return [found[insz] for insz in inszs]


def load_grant_payments(session: Session, ids: Sequence[int]) -> list[list[GrantPaymentRecord]]:
    """The payments of each application, oldest first."""
    rows = session.fetch_all(
        "SELECT id, application_id, amount_cents, payment_date FROM study_grant_payment"
        " WHERE application_id IN (SELECT value FROM json_each(?))"
        " ORDER BY application_id, payment_date, id",
        (json_list(ids),),
    )
    found: dict[int, list[GrantPaymentRecord]] = {key: [] for key in ids}
    for r in rows:
        found[r[1]].append(GrantPaymentRecord(r[0], r[1], r[2], date.fromisoformat(r[3])))
    return [found[key] for key in ids]
