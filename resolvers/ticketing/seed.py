"""Create and fill the ticketing store: municipalities and citizens' reports with their history.

Deterministic: every random choice comes from `random.Random(TICKETING_SEED)`, people are
visited in population order, and every timestamp lies before the reference date. A ticket walks
the workflow of `catalogue.NEXT_STATUSES` from NEW; the walk stops at the reference date, so
recent tickets are still open and old ones are mostly resolved or closed.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from resolvers.common.citizens import seed_citizens
from resolvers.common.municipalities import BY_NIS_CODE, MUNICIPALITIES
from resolvers.common.population import ANN_INSZ, BRAM_INSZ, REFERENCE_DATE, Person, population
from resolvers.ticketing.catalogue import (
    CATEGORIES,
    DESCRIPTIONS,
    NEXT_STATUSES,
    PUBLIC_UPDATES,
    STATUS_NOTES,
    STREETS,
    reference_for,
)
from resolvers.ticketing.store import timestamp

TICKETING_SEED = 44_021
SEED_VERSION = 1
"""Bump when the tables or the generated data change: existing stores are then re-seeded
(tickets reported since are lost)."""

REFERENCE_MOMENT = datetime.combine(REFERENCE_DATE, time(9, 0), tzinfo=UTC)

DDL = """
CREATE TABLE municipality (
    nis_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    province TEXT NOT NULL,
    postal_code TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE ticket (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    reporter_insz TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    street TEXT NOT NULL,
    house_number TEXT,
    postal_code TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    nis_code TEXT NOT NULL REFERENCES municipality (nis_code),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ticket_by_reporter ON ticket (reporter_insz);
CREATE INDEX ticket_by_municipality ON ticket (nis_code, status);

CREATE TABLE ticket_status_change (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES ticket (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX ticket_status_change_by_ticket ON ticket_status_change (ticket_id);

CREATE TABLE ticket_update (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES ticket (id),
    at TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX ticket_update_by_ticket ON ticket_update (ticket_id);
"""


@dataclass
class _Ticket:
    reporter_insz: str
    category: str
    description: str
    street: str
    house_number: str | None
    postal_code: str
    latitude: float
    longitude: float
    nis_code: str
    history: list[tuple[str, datetime, str | None]] = field(default_factory=list)
    updates: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def created_at(self) -> datetime:
        return self.history[0][1]

    @property
    def status(self) -> str:
        return self.history[-1][0]

    @property
    def updated_at(self) -> datetime:
        return max([self.history[-1][1], *(at for at, _ in self.updates)])


def _showcase() -> list[_Ticket]:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    tile = _Ticket(ANN_INSZ, "LOOSE_PAVING_TILE",
                   "Drie stoeptegels liggen los voor nummer 41; mijn buurvrouw is er gisteren "
                   "bijna over gestruikeld.",
                   "Sint-Pietersnieuwstraat", "41", "9000", 51.0447, 3.7259, "44021")  # fmt: skip
    tile.history = [
        ("NEW", at("2025-10-02T08:14:00"), STATUS_NOTES["NEW"]),
        ("ACKNOWLEDGED", at("2025-10-03T10:02:00"), "Toegewezen aan Wegen en Infrastructuur."),
        ("SCHEDULED", at("2025-10-08T13:30:00"), "Herstelling ingepland op 20 oktober."),
    ]
    tile.updates = [
        (at("2025-10-03T10:02:00"), PUBLIC_UPDATES["ACKNOWLEDGED"]),
        (at("2025-10-08T13:30:00"), "De herstelling is ingepland op 20 oktober."),
    ]
    light = _Ticket(ANN_INSZ, "BROKEN_STREET_LIGHT",
                    "De straatlantaarn tegenover de brug brandt al twee weken niet meer.",
                    "Coupure Links", "12", "9000", 51.0530, 3.7150, "44021")  # fmt: skip
    light.history = [
        ("NEW", at("2025-06-11T21:45:00"), STATUS_NOTES["NEW"]),
        ("ACKNOWLEDGED", at("2025-06-12T09:10:00"), STATUS_NOTES["ACKNOWLEDGED"]),
        ("ON_HOLD", at("2025-06-13T11:00:00"), "Doorgegeven aan Fluvius (openbare verlichting)."),
        ("SCHEDULED", at("2025-06-20T08:00:00"), STATUS_NOTES["SCHEDULED"]),
        ("IN_PROGRESS", at("2025-06-24T07:30:00"), STATUS_NOTES["IN_PROGRESS"]),
        ("RESOLVED", at("2025-06-24T10:15:00"), "Lamp en voedingskabel vervangen."),
    ]
    light.updates = [
        (at("2025-06-12T09:10:00"), PUBLIC_UPDATES["ACKNOWLEDGED"]),
        (at("2025-06-13T11:00:00"),
         "Uw melding werd doorgegeven aan Fluvius, die de openbare verlichting beheert."),
        (at("2025-06-24T10:15:00"), PUBLIC_UPDATES["RESOLVED"]),
    ]  # fmt: skip
    dumping = _Ticket(BRAM_INSZ, "ILLEGAL_DUMPING",
                      "Een hoop vuilniszakken en een kapotte stoel naast de ondergrondse "
                      "containers.",
                      "De Bosschaertstraat", "5", "2020", 51.1955, 4.3940, "11002")  # fmt: skip
    dumping.history = [
        ("NEW", at("2025-10-12T19:40:00"), STATUS_NOTES["NEW"]),
        ("ACKNOWLEDGED", at("2025-10-13T08:25:00"), "Toegewezen aan Stadsreiniging."),
    ]
    dumping.updates = [(at("2025-10-13T08:25:00"), PUBLIC_UPDATES["ACKNOWLEDGED"])]
    return [tile, light, dumping]


# How long (in hours, low-high) a ticket takes to reach a status; leaving ON_HOLD takes longest.
_HOURS_UNTIL: dict[str, tuple[float, float]] = {
    "ACKNOWLEDGED": (2, 72),
    "SCHEDULED": (24, 240),
    "IN_PROGRESS": (48, 720),
    "RESOLVED": (1, 48),
    "CLOSED": (168, 720),
    "ON_HOLD": (24, 120),
    "ON_HOLD_END": (240, 2160),
    "CANCELLED": (1, 72),
    "REOPENED": (72, 720),
}


class _Generator:
    def __init__(self) -> None:
        self.rng = random.Random(TICKETING_SEED)
        self.nis_codes = [m.nis_code for m in MUNICIPALITIES]

    def tickets(self, person: Person) -> list[_Ticket]:
        rng = self.rng
        if person.age_on(REFERENCE_DATE) < 16 or rng.random() >= 0.35:
            return []
        return [self.ticket(person) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]

    def ticket(self, person: Person) -> _Ticket:
        rng = self.rng
        nis = person.residence_nis_code if rng.random() < 0.85 else rng.choice(self.nis_codes)
        place = BY_NIS_CODE[nis]
        category = rng.choice(sorted(CATEGORIES))
        ticket = _Ticket(
            reporter_insz=person.insz,
            category=category,
            description=rng.choice(DESCRIPTIONS[category]),
            street=rng.choice(STREETS),
            house_number=None if rng.random() < 0.2 else str(rng.randint(1, 180)),
            postal_code=place.postal_code,
            latitude=round(place.latitude + rng.uniform(-0.02, 0.02), 5),
            longitude=round(place.longitude + rng.uniform(-0.03, 0.03), 5),
            nis_code=nis,
        )
        # More recent reports than old ones: up to 14 months back, skewed towards now.
        age_minutes = 60 + int(rng.random() ** 2 * 420 * 24 * 60)
        created = REFERENCE_MOMENT - timedelta(minutes=age_minutes)
        self.walk(ticket, created)
        return ticket

    def walk(self, ticket: _Ticket, created: datetime) -> None:
        """Follow the workflow from NEW until a final status or the reference moment."""
        rng = self.rng
        status, moment = "NEW", created
        ticket.history.append((status, moment, STATUS_NOTES[status]))
        reopened = False
        while NEXT_STATUSES[status]:
            options = NEXT_STATUSES[status]
            # Mostly the happy path (the first option); sometimes a detour.
            weights = [20] + [1] * (len(options) - 1)
            if status == "RESOLVED":
                weights = [1, 0] if reopened else [9, 1]
            nxt = rng.choices(options, weights)[0]
            low, high = _HOURS_UNTIL["ON_HOLD_END" if status == "ON_HOLD" else nxt]
            moment += timedelta(hours=rng.uniform(low, high))
            if moment >= REFERENCE_MOMENT:
                break
            reopened = reopened or nxt == "REOPENED"
            status = nxt
            ticket.history.append((status, moment, STATUS_NOTES[status]))
            if status in PUBLIC_UPDATES:
                ticket.updates.append((moment, PUBLIC_UPDATES[status]))


def _insert(conn: sqlite3.Connection, tickets: list[_Ticket]) -> None:
    conn.executemany(
        "INSERT INTO municipality VALUES (?, ?, ?, ?)",
        [(m.nis_code, m.name, m.province, m.postal_code) for m in MUNICIPALITIES],
    )
    # Ticket ids follow creation time, as they would in a live system.
    tickets = sorted(tickets, key=lambda t: (t.created_at, t.reporter_insz))
    for ticket_id, t in enumerate(tickets, start=1):
        conn.execute(
            "INSERT INTO ticket VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, reference_for(ticket_id, t.created_at), t.reporter_insz, t.category,
             t.description, t.street, t.house_number, t.postal_code, t.latitude, t.longitude,
             t.nis_code, t.status, timestamp(t.created_at), timestamp(t.updated_at)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO ticket_status_change (ticket_id, status, at, note) VALUES (?, ?, ?, ?)",
            [(ticket_id, status, timestamp(at), note) for status, at, note in t.history],
        )
        conn.executemany(
            "INSERT INTO ticket_update (ticket_id, at, message) VALUES (?, ?, ?)",
            [(ticket_id, timestamp(at), message) for at, message in t.updates],
        )


def seed(conn: sqlite3.Connection) -> None:
    """Create the ticketing tables and fill them (the store's `Seed`)."""
    seed_citizens(conn)
    conn.executescript(DDL)
    tickets = _showcase()
    generator = _Generator()
    showcase = {ANN_INSZ, BRAM_INSZ}
    for person in population():
        if person.insz not in showcase:
            tickets.extend(generator.tickets(person))
    _insert(conn, tickets)
