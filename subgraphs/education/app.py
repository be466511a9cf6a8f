"""The education subgraph's ASGI app: `uvicorn subgraphs.education.app:app`.

Store: `$RUGZAK_DATA_DIR/education.sqlite3` (opened read-only once seeded). Every response
carries `x-store-queries: N`, the SQL statements the request cost (see `subgraphs.common.app`).
"""

from __future__ import annotations

from resolvers.education.loaders import EducationLoaders
from resolvers.education.seed import SEED_VERSION, seed
from subgraphs.common.app import create_app
from subgraphs.education.schema import schema

app = create_app(
    name="education",
    schema=schema,
    seed=seed,
    seed_version=SEED_VERSION,
    loaders=EducationLoaders.create,
)
