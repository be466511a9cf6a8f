"""The transparency subgraph's own store: the names of the organisations that read data.

Civil servants' tokens name their organisation by NIS code (`org`); a citizen's access log shows
the name beside it. The municipalities are those of `resolvers.common.municipalities`.
"""

from __future__ import annotations

import sqlite3

from resolvers.common.municipalities import MUNICIPALITIES

SEED_VERSION = 1
"""Bump when the tables or the data change: existing stores are then re-seeded."""

DDL = """
CREATE TABLE organisation (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
"""


def seed(conn: sqlite3.Connection) -> None:
    conn.executescript(DDL)
    conn.executemany(
        "INSERT INTO organisation (code, name) VALUES (?, ?)",
        [(m.nis_code, m.name) for m in MUNICIPALITIES],
    )
