"""Create and fill the allowances store: Groeipakket entitlements and study grant applications.

Deterministic: every random choice comes from `random.Random(ALLOWANCES_SEED)`, people are
visited in population order, and all dates lie before REFERENCE_DATE.

Amounts are in euro cents and approximate the Flemish rates of 2025 (the basisbedrag for a
child born from 2019, the schoolbonus by age, a flat sociale toeslag, a zorgtoeslag that
depends on the child's needs). Groeipakket payments cover the twelve months before the
reference date: the monthly components are paid on the 10th of the following month, the
schoolbonus in August, the startbedrag a month after birth.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from resolvers.common.citizens import seed_citizens
from resolvers.common.institutions import HIGHER_EDUCATION
from resolvers.common.population import (
    ANN_INSZ,
    BRAM_INSZ,
    FEMALE_NAMES,
    MALE_NAMES,
    REFERENCE_DATE,
    Person,
    population,
)

ALLOWANCES_SEED = 11_002
SEED_VERSION = 2
"""Bump when the tables or the generated data change: existing stores are then re-seeded."""

PAYING_BODIES = ("FONS", "INFINO", "KIDSLIFE", "MYFAMILY", "PARENTIA")

BASISBEDRAG_CENTS = 18_232
SOCIALE_TOESLAG_CENTS = 7_093
STARTBEDRAG_CENTS = 123_396
ZORGTOESLAG_CENTS = (10_994, 27_486, 48_326, 64_434)
PAYMENT_MONTHS = 12
"""Groeipakket payments are seeded for this many months before the reference date."""

DDL = """
CREATE TABLE child_benefit (
    id INTEGER PRIMARY KEY,
    insz TEXT NOT NULL REFERENCES citizen (insz),
    child_given_name TEXT NOT NULL,
    child_birth_date TEXT NOT NULL,
    paying_body TEXT NOT NULL,
    start_date TEXT NOT NULL,
    bank_account TEXT NOT NULL
);
CREATE INDEX child_benefit_by_citizen ON child_benefit (insz);

CREATE TABLE child_benefit_component (
    entitlement_id INTEGER NOT NULL REFERENCES child_benefit (id),
    category TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    PRIMARY KEY (entitlement_id, category)
) WITHOUT ROWID;

CREATE TABLE child_benefit_payment (
    id INTEGER PRIMARY KEY,
    entitlement_id INTEGER NOT NULL REFERENCES child_benefit (id),
    category TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    payment_date TEXT NOT NULL,
    period TEXT NOT NULL
);
CREATE INDEX child_benefit_payment_by_entitlement ON child_benefit_payment (entitlement_id);

CREATE TABLE study_grant_application (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    insz TEXT NOT NULL REFERENCES citizen (insz),
    academic_year TEXT NOT NULL,
    institution_number TEXT NOT NULL,
    programme TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'IN_PROCESSING', 'DECIDED')),
    outcome TEXT CHECK (outcome IN ('GRANTED', 'REFUSED')),
    amount_cents INTEGER,
    reason TEXT,
    decided_on TEXT
);
CREATE INDEX study_grant_application_by_citizen ON study_grant_application (insz);

CREATE TABLE study_grant_payment (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES study_grant_application (id),
    amount_cents INTEGER NOT NULL,
    payment_date TEXT NOT NULL
);
CREATE INDEX study_grant_payment_by_application ON study_grant_payment (application_id);
"""

GRANT_PROGRAMMES = (
    "Bachelor in de verpleegkunde", "Bachelor in het sociaal werk", "Bachelor in de informatica",
    "Bachelor in de rechten", "Bachelor in de psychologie", "Bachelor in de handelswetenschappen",
    "Bachelor in het onderwijs: lager onderwijs", "Master in de rechten",
    "Master in de industriële wetenschappen: elektromechanica",
)  # fmt: skip
GRANTED_REASON = "Toegekend op basis van het gezinsinkomen en de gezinssituatie."
REFUSAL_REASONS = (
    "Het gezinsinkomen overschrijdt de maximumgrens.",
    "Onvoldoende leerkrediet om de studietoelage toe te kennen.",
    "De opleiding komt niet in aanmerking voor een studietoelage.",
)


@dataclass
class _Entitlement:
    insz: str
    child_given_name: str
    child_birth_date: date
    paying_body: str
    components: dict[str, int] = field(default_factory=dict)
    """category -> amount in cents (monthly; yearly for SCHOOLBONUS; once for STARTBEDRAG)."""

    @property
    def start_date(self) -> date:
        # The Groeipakket replaced the old kinderbijslag on 1 January 2019.
        return max(self.child_birth_date, date(2019, 1, 1))


@dataclass
class _Application:
    insz: str
    academic_year: int
    """The year the academic year starts in: 2024 for 2024-2025."""
    institution_number: str
    programme: str
    submitted_on: date
    status: str
    outcome: str | None = None
    amount_cents: int | None = None
    reason: str | None = None
    decided_on: date | None = None
    payments: list[tuple[int, date]] = field(default_factory=list)


def schoolbonus_cents(child_birth_date: date, year: int) -> int:
    """The yearly schoolbonus, by the age the child reaches in `year`."""
    age = year - child_birth_date.year
    if age <= 4:
        return 2_254
    if age <= 11:
        return 3_943
    if age <= 17:
        return 5_526
    return 6_757


def synthetic_iban(insz: str) -> str:
    """A Belgian IBAN that passes both checks, derived from the INSZ so that a citizen's
    entitlements are paid into one account; bank code 000 keeps it clearly synthetic."""
    account = "000" + insz[-7:]
    bban = f"{account}{int(account) % 97 or 97:02d}"
    check = 98 - int(bban + "111400") % 97  # "BE00" moved to the end, letters as numbers
    return f"BE{check:02d}{bban}"


def _months_before(day: date, count: int) -> list[date]:
    """The first days of the `count` months before the month of `day`, oldest first."""
    months: list[date] = []
    year, month = day.year, day.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(date(year, month, 1))
    return months[::-1]


def _payments(entitlement: _Entitlement) -> list[tuple[str, int, date, str]]:
    """(category, cents, payment date, period YYYY-MM) of the seeded months, oldest first."""
    rows: list[tuple[str, int, date, str]] = []
    start = entitlement.start_date.replace(day=1)
    birth = entitlement.child_birth_date
    first_month = _months_before(REFERENCE_DATE, PAYMENT_MONTHS)[0]
    if "STARTBEDRAG" in entitlement.components and birth >= first_month:
        paid = birth + timedelta(days=30)
        if paid < REFERENCE_DATE:
            rows.append(("STARTBEDRAG", entitlement.components["STARTBEDRAG"], paid,
                         f"{birth.year:04d}-{birth.month:02d}"))  # fmt: skip
    for month in _months_before(REFERENCE_DATE, PAYMENT_MONTHS):
        if month < start:
            continue
        period = f"{month.year:04d}-{month.month:02d}"
        following = (month + timedelta(days=32)).replace(day=10)
        for category in ("BASISBEDRAG", "SOCIALE_TOESLAG", "ZORGTOESLAG"):
            if category in entitlement.components:
                rows.append((category, entitlement.components[category], following, period))
        if month.month == 8 and "SCHOOLBONUS" in entitlement.components:
            rows.append(("SCHOOLBONUS", schoolbonus_cents(birth, month.year),
                         month.replace(day=20), period))  # fmt: skip
    return rows


def _showcase() -> tuple[list[_Entitlement], list[_Application]]:
    lotte = date(2019, 3, 14)
    entitlements = [
        _Entitlement(ANN_INSZ, "Lotte", lotte, "INFINO", {
            "BASISBEDRAG": BASISBEDRAG_CENTS,
            "SCHOOLBONUS": schoolbonus_cents(lotte, REFERENCE_DATE.year),
        }),
    ]  # fmt: skip
    applications = [
        # Ann retrains as a secondary-school teacher and was granted a study grant.
        _Application(ANN_INSZ, 2024, "031021", "Bachelor in het onderwijs: secundair onderwijs",
                     date(2024, 9, 12), "DECIDED", "GRANTED", 184_350, GRANTED_REASON,
                     date(2024, 11, 5),
                     [(92_175, date(2024, 11, 15)), (92_175, date(2025, 3, 14))]),
        # Bram: refused last year, this year's application is being processed.
        _Application(BRAM_INSZ, 2024, "030171", "Bachelor in de informatica", date(2024, 8, 28),
                     "DECIDED", "REFUSED", None, REFUSAL_REASONS[0], date(2024, 10, 21)),
        _Application(BRAM_INSZ, 2025, "030171", "Bachelor in de informatica", date(2025, 9, 3),
                     "IN_PROCESSING"),
    ]  # fmt: skip
    return entitlements, applications


class _Generator:
    def __init__(self) -> None:
        self.rng = random.Random(ALLOWANCES_SEED)

    def entitlements(self, parent: Person) -> list[_Entitlement]:
        rng = self.rng
        age = parent.age_on(REFERENCE_DATE)
        if not 22 <= age <= 58 or rng.random() >= 0.4:
            return []
        found: list[_Entitlement] = []
        paying_body = rng.choice(PAYING_BODIES)
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            earliest = max(parent.birth_date.replace(year=parent.birth_date.year + 22, day=1),
                           date(REFERENCE_DATE.year - 17, 1, 1))  # fmt: skip
            latest = REFERENCE_DATE - timedelta(days=20)
            if earliest >= latest:
                break
            birth = earliest + timedelta(days=rng.randrange((latest - earliest).days))
            names = FEMALE_NAMES if rng.random() < 0.5 else MALE_NAMES
            child = _Entitlement(parent.insz, rng.choice(names), birth, paying_body)
            child.components["BASISBEDRAG"] = BASISBEDRAG_CENTS
            child.components["SCHOOLBONUS"] = schoolbonus_cents(birth, REFERENCE_DATE.year)
            if birth.year >= 2019:
                child.components["STARTBEDRAG"] = STARTBEDRAG_CENTS
            if rng.random() < 0.25:
                child.components["SOCIALE_TOESLAG"] = SOCIALE_TOESLAG_CENTS
            if rng.random() < 0.04:
                child.components["ZORGTOESLAG"] = rng.choice(ZORGTOESLAG_CENTS)
            found.append(child)
        return found

    def applications(self, student: Person) -> list[_Application]:
        rng = self.rng
        age = student.age_on(REFERENCE_DATE)
        if not 18 <= age <= 26 or rng.random() >= 0.45:
            return []
        institution = rng.choice(HIGHER_EDUCATION).number
        programme = rng.choice(GRANT_PROGRAMMES)
        first_year = max(student.birth_date.year + 18, REFERENCE_DATE.year - 3)
        found: list[_Application] = []
        for year in range(first_year, REFERENCE_DATE.year + 1):
            if rng.random() < 0.2:
                continue  # no application that year
            submitted = date(year, 8, 1) + timedelta(days=rng.randrange(70))
            if year == REFERENCE_DATE.year:
                status = rng.choice(("SUBMITTED", "IN_PROCESSING"))
                found.append(_Application(student.insz, year, institution, programme,
                                          submitted, status))  # fmt: skip
                continue
            decided = submitted + timedelta(days=rng.randint(30, 90))
            if rng.random() < 0.75:
                amount = rng.randrange(300, 4_600) * 100 + rng.choice((0, 25, 50, 75))
                first = amount // 2 if rng.random() < 0.5 else amount
                payments = [(first, decided + timedelta(days=10))]
                if first < amount:
                    payments.append((amount - first, date(year + 1, 3, rng.randint(10, 20))))
                found.append(_Application(student.insz, year, institution, programme, submitted,
                                          "DECIDED", "GRANTED", amount, GRANTED_REASON, decided,
                                          payments))  # fmt: skip
            else:
                found.append(_Application(student.insz, year, institution, programme, submitted,
                                          "DECIDED", "REFUSED", None,
                                          rng.choice(REFUSAL_REASONS), decided))  # fmt: skip
        return found


def _insert(conn: sqlite3.Connection, entitlements: list[_Entitlement],
            applications: list[_Application]) -> None:  # fmt: skip
    for entitlement_id, e in enumerate(entitlements, start=1):
        conn.execute(
            "INSERT INTO child_benefit VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entitlement_id, e.insz, e.child_given_name, e.child_birth_date.isoformat(),
             e.paying_body, e.start_date.isoformat(), synthetic_iban(e.insz)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO child_benefit_component VALUES (?, ?, ?)",
            [(entitlement_id, category, cents) for category, cents in e.components.items()],
        )
        conn.executemany(
            "INSERT INTO child_benefit_payment (entitlement_id, category, amount_cents,"
            " payment_date, period) VALUES (?, ?, ?, ?, ?)",
            [(entitlement_id, category, cents, paid.isoformat(), period)
             for category, cents, paid, period in _payments(e)],
        )  # fmt: skip
    for application_id, a in enumerate(applications, start=1):
        reference = f"STT-{a.academic_year}-{application_id:06d}"
        conn.execute(
            "INSERT INTO study_grant_application VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (application_id, reference, a.insz, f"{a.academic_year}-{a.academic_year + 1}",
             a.institution_number, a.programme, a.submitted_on.isoformat(), a.status, a.outcome,
             a.amount_cents, a.reason, a.decided_on.isoformat() if a.decided_on else None),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO study_grant_payment (application_id, amount_cents, payment_date)"
            " VALUES (?, ?, ?)",
            [(application_id, cents, paid.isoformat()) for cents, paid in a.payments],
        )


def seed(conn: sqlite3.Connection) -> None:
    """Create the allowances tables and fill them (the store's `Seed`)."""
    seed_citizens(conn)
    conn.executescript(DDL)
    entitlements, applications = _showcase()
    generator = _Generator()
    showcase = {ANN_INSZ, BRAM_INSZ}
    for person in population():
        if person.insz in showcase:
            continue
        entitlements.extend(generator.entitlements(person))
        applications.extend(generator.applications(person))
    _insert(conn, entitlements, applications)
