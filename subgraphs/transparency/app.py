"""The transparency subgraph's ASGI app: `uvicorn subgraphs.transparency.app:app`.

Its own store, `$RUGZAK_DATA_DIR/transparency.sqlite3`, holds organisations' names; the entries
come from the gateway's access log (RUGZAK_ACCESS_LOG, by default
`$RUGZAK_DATA_DIR/audit.sqlite3`: run it with the gateway's data directory, or point both at the
same PostgreSQL). Gateway-only access and tokens as every reference subgraph
(`subgraphs.common.app`).
"""

from __future__ import annotations

from resolvers.transparency.loaders import TransparencyLoaders
from resolvers.transparency.seed import SEED_VERSION, seed
from subgraphs.common.app import create_app
from subgraphs.transparency.schema import schema

app = create_app(
    name="transparency",
    schema=schema,
    seed=seed,
    seed_version=SEED_VERSION,
    loaders=TransparencyLoaders.create,
)
