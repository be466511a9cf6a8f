"""The allowances subgraph's ASGI app: `uvicorn subgraphs.allowances.app:app`.

Store: `$RUGZAK_DATA_DIR/allowances.sqlite3` (opened read-only once seeded). Every response
carries `x-store-queries: N`, the SQL statements the request cost (see `subgraphs.common.app`).
"""

from __future__ import annotations

from resolvers.allowances.loaders import AllowancesLoaders
from resolvers.allowances.seed import SEED_VERSION, seed
from subgraphs.allowances.schema import schema
from subgraphs.common.app import create_app

app = create_app(
    name="allowances",
    schema=schema,
    seed=seed,
    seed_version=SEED_VERSION,
    loaders=AllowancesLoaders.create,
)
