"""The `citizen` table that every subgraph store has, and its batch lookup.

Each store holds the whole shared population (see `population`), so that every subgraph answers
"is this INSZ a known citizen?" the same way: `me`, `citizen(insz:)` and `_entities` all return
null for an unknown citizen in all three subgraphs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.common.population import population
from resolvers.common.sqlite import Session, json_list

CITIZEN_DDL = """
CREATE TABLE citizen (
    insz TEXT PRIMARY KEY,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    residence_nis_code TEXT NOT NULL
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class CitizenRecord:
    insz: str
    given_name: str
    family_name: str


def seed_citizens(conn: sqlite3.Connection) -> None:
    """Create the citizen table and insert the shared population."""
    conn.executescript(CITIZEN_DDL)
    conn.executemany(
        "INSERT INTO citizen VALUES (?, ?, ?, ?, ?)",
        [
            (p.insz, p.given_name, p.family_name, p.birth_date.isoformat(), p.residence_nis_code)
            for p in population()
        ],
    )


def load_citizens(session: Session, inszs: Sequence[str]) -> list[CitizenRecord | None]:
    """Batch load function: one query for any number of INSZ numbers, results in key order."""
    rows = session.fetch_all(
        "SELECT insz, given_name, family_name FROM citizen"
        " WHERE insz IN (SELECT value FROM json_each(?))",
        (json_list(inszs),),
    )
    found = {row["insz"]: CitizenRecord(row[0], row[1], row[2]) for row in rows}
    return [found.get(insz) for insz in inszs]
