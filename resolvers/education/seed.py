"""Create and fill the education store: institutions and LED qualifications.

Deterministic: every random choice comes from `random.Random(EDUCATION_SEED)`, and people are
visited in population order. The institutions are those of `resolvers.common.institutions`;
the qualifications are invented.

Dates honour how the LED register really looks: old records often carry only a year, or a year
and month; recent ones carry a full date.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import astuple, dataclass

from resolvers.common.citizens import seed_citizens
from resolvers.common.institutions import INSTITUTIONS
from resolvers.common.municipalities import BY_NIS_CODE
from resolvers.common.population import ANN_INSZ, BRAM_INSZ, REFERENCE_DATE, Person, population

EDUCATION_SEED = 4_021
SEED_VERSION = 1
"""Bump when the tables or the generated data change: existing stores are then re-seeded."""

DDL = """
CREATE TABLE institution (
    institution_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    nis_code TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE qualification (
    id INTEGER PRIMARY KEY,
    insz TEXT NOT NULL REFERENCES citizen (insz),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    programme TEXT NOT NULL,
    institution_number TEXT NOT NULL REFERENCES institution (institution_number),
    issue_year INTEGER NOT NULL,
    issue_month INTEGER,
    issue_day INTEGER,
    vks_level INTEGER NOT NULL CHECK (vks_level BETWEEN 1 AND 8),
    status TEXT NOT NULL CHECK (status IN ('REGISTERED', 'CANCELLED')),
    cancellation_reason TEXT
);
CREATE INDEX qualification_by_citizen ON qualification (insz);
"""

SECONDARY_PROGRAMMES = (
    "Latijn-Wiskunde (aso)", "Wetenschappen-Wiskunde (aso)", "Economie-Moderne talen (aso)",
    "Humane wetenschappen (aso)", "Handel (tso)", "Industriële wetenschappen (tso)",
    "Elektromechanica (tso)", "Verzorging (bso)", "Kantoor (bso)",
)  # fmt: skip
PROFESSIONAL_BACHELORS = (
    "Bachelor in de verpleegkunde", "Bachelor in het sociaal werk",
    "Bachelor in het bedrijfsmanagement", "Bachelor in het onderwijs: lager onderwijs",
    "Bachelor in de toegepaste informatica", "Bachelor in de vroedkunde",
)  # fmt: skip
ACADEMIC_BACHELORS = (
    "Bachelor in de rechten", "Bachelor in de psychologie", "Bachelor in de informatica",
    "Bachelor in de handelswetenschappen", "Bachelor in de geschiedenis",
)  # fmt: skip
MASTERS = (
    "Master in de rechten", "Master in de psychologie", "Master in de geneeskunde",
    "Master of Science in de ingenieurswetenschappen: computerwetenschappen",
    "Master in de handelswetenschappen", "Master in de pedagogische wetenschappen",
    "Master in de industriële wetenschappen: elektromechanica",
)  # fmt: skip
GRADUATES = (
    "Graduaat in het programmeren", "Graduaat in de verpleegkunde",
    "Graduaat in de boekhouding",
)  # fmt: skip
# (programme, VKS level) of adult-education certificates
CERTIFICATES = (
    ("Basiskennis bedrijfsbeheer", 4), ("Boekhouder", 5), ("Webontwikkelaar", 5),
    ("Zorgkundige", 4), ("Heftruckchauffeur", 2), ("Kok", 3), ("Elektricien", 4),
)  # fmt: skip
CANCELLATION_REASONS = (
    "Dubbele registratie door de instelling.",
    "Foutief geregistreerd: de opleiding werd niet voltooid.",
)

TITLES = {
    4: "Diploma van secundair onderwijs",
    5: "Diploma van graduaat",
    6: "Diploma van bachelor",
    7: "Diploma van master",
    8: "Diploma van doctor",
}


@dataclass(frozen=True, slots=True)
class _Qualification:
    insz: str
    kind: str
    title: str
    programme: str
    institution_number: str
    year: int
    month: int | None
    day: int | None
    vks_level: int
    status: str = "REGISTERED"
    cancellation_reason: str | None = None


def _showcase() -> list[_Qualification]:
    return [
        # Ann: secondary school in Gent, then a bachelor and master at Ghent University, an
        # adult-education certificate, and a certificate the institution registered by mistake.
        _Qualification(ANN_INSZ, "DIPLOMA", TITLES[4], "Latijn-Wiskunde (aso)", "040113",
                       2003, 6, None, 4),
        _Qualification(ANN_INSZ, "DIPLOMA", TITLES[6], "Bachelor in de pedagogische wetenschappen",
                       "030155", 2006, 7, None, 6),
        _Qualification(ANN_INSZ, "DIPLOMA", TITLES[7], "Master in de pedagogische wetenschappen",
                       "030155", 2008, 7, 4, 7),
        _Qualification(ANN_INSZ, "CERTIFICATE", "Certificaat", "Basiskennis bedrijfsbeheer",
                       "050104", 2012, None, None, 4),
        _Qualification(ANN_INSZ, "CERTIFICATE", "Certificaat", "Boekhouder", "050104",
                       2013, 3, 22, 5, "CANCELLED", CANCELLATION_REASONS[1]),
        # Bram: a secondary-school diploma; he is still studying.
        _Qualification(BRAM_INSZ, "DIPLOMA", TITLES[4], "Wetenschappen-Wiskunde (aso)", "040121",
                       2021, 6, 30, 4),
    ]  # fmt: skip


class _Generator:
    def __init__(self) -> None:
        self.rng = random.Random(EDUCATION_SEED)
        self.by_kind: dict[str, list[tuple[str, str]]] = {}
        for institution in INSTITUTIONS:
            province = BY_NIS_CODE[institution.nis_code].province
            self.by_kind.setdefault(institution.kind, []).append((institution.number, province))

    def institution(self, kind: str, province: str) -> str:
        candidates = self.by_kind[kind]
        nearby = [number for number, prov in candidates if prov == province]
        pool = nearby if nearby and self.rng.random() < 0.8 else [n for n, _ in candidates]
        return self.rng.choice(pool)

    def date_parts(self, year: int, month: int, day: int) -> tuple[int, int | None, int | None]:
        """Old records often lack the day, or the month too."""
        roll = self.rng.random()
        if year < 1980 and roll < 0.6:
            return year, None, None
        if year < 2000 and roll < 0.5:
            return year, month, None
        return year, month, day

    def qualification(
        self, person: Person, kind: str, title: str, programme: str, institution: str,
        year: int, month: int, day: int, level: int,
    ) -> _Qualification | None:  # fmt: skip
        if (year, month, day) > (REFERENCE_DATE.year, REFERENCE_DATE.month, REFERENCE_DATE.day):
            return None  # not obtained yet
        y, m, d = self.date_parts(year, month, day)
        status, reason = "REGISTERED", None
        if self.rng.random() < 0.02:
            status, reason = "CANCELLED", self.rng.choice(CANCELLATION_REASONS)
        return _Qualification(
            person.insz, kind, title, programme, institution, y, m, d, level, status, reason
        )

    def for_person(self, person: Person) -> list[_Qualification]:
        rng = self.rng
        province = BY_NIS_CODE[person.residence_nis_code].province
        born = person.birth_date.year
        found: list[_Qualification | None] = []
        if person.age_on(REFERENCE_DATE) < 18 or rng.random() >= 0.88:
            return []
        year = born + 18
        found.append(self.qualification(
            person, "DIPLOMA", TITLES[4], rng.choice(SECONDARY_PROGRAMMES),
            self.institution("SECONDARY_SCHOOL", province), year, 6, rng.randint(26, 30), 4,
        ))  # fmt: skip
        roll = rng.random()
        if roll < 0.22:  # professional bachelor at a university college
            year += rng.choice((3, 3, 4))
            found.append(self.qualification(
                person, "DIPLOMA", TITLES[6], rng.choice(PROFESSIONAL_BACHELORS),
                self.institution("UNIVERSITY_COLLEGE", province), year, rng.choice((6, 7, 9)),
                rng.randint(1, 28), 6,
            ))  # fmt: skip
        elif roll < 0.45:  # academic bachelor and usually a master at a university
            university = self.institution("UNIVERSITY", province)
            year += rng.choice((3, 3, 4))
            found.append(self.qualification(
                person, "DIPLOMA", TITLES[6], rng.choice(ACADEMIC_BACHELORS), university,
                year, 7, rng.randint(1, 10), 6,
            ))  # fmt: skip
            if rng.random() < 0.75:
                year += rng.choice((1, 2, 2))
                found.append(self.qualification(
                    person, "DIPLOMA", TITLES[7], rng.choice(MASTERS), university, year,
                    rng.choice((7, 9)), rng.randint(1, 15), 7,
                ))  # fmt: skip
                if rng.random() < 0.06:
                    year += rng.randint(4, 6)
                    found.append(self.qualification(
                        person, "DIPLOMA", TITLES[8], "Doctor in de wetenschappen", university,
                        year, rng.randint(1, 12), rng.randint(1, 28), 8,
                    ))  # fmt: skip
        elif roll < 0.55:  # a graduate programme (HBO5)
            year += 2
            found.append(self.qualification(
                person, "DIPLOMA", TITLES[5], rng.choice(GRADUATES),
                self.institution("UNIVERSITY_COLLEGE", province), year, 6, rng.randint(15, 30), 5,
            ))  # fmt: skip
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            programme, level = rng.choice(CERTIFICATES)
            year = rng.randint(born + 20, max(born + 20, REFERENCE_DATE.year))
            found.append(self.qualification(
                person, "CERTIFICATE", "Certificaat", programme,
                self.institution("ADULT_EDUCATION", province), year, rng.randint(1, 12),
                rng.randint(1, 28), level,
            ))  # fmt: skip
        return [q for q in found if q is not None]


def seed(conn: sqlite3.Connection) -> None:
    """Create the education tables and fill them (the store's `Seed`)."""
    seed_citizens(conn)
    conn.executescript(DDL)
    conn.executemany(
        "INSERT INTO institution VALUES (?, ?, ?, ?)",
        [(i.number, i.name, i.kind, i.nis_code) for i in INSTITUTIONS],
    )
    generator = _Generator()
    qualifications = _showcase()
    showcase = {ANN_INSZ, BRAM_INSZ}
    for person in population():
        if person.insz not in showcase:
            qualifications.extend(generator.for_person(person))
    conn.executemany(
        "INSERT INTO qualification (insz, kind, title, programme, institution_number, issue_year,"
        " issue_month, issue_day, vks_level, status, cancellation_reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [astuple(q) for q in qualifications],  # fields in column order
    )
