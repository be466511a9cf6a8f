"""The ticketing subgraph's ASGI app: `uvicorn subgraphs.ticketing.app:app`.

Store: `$RUGZAK_DATA_DIR/ticketing.sqlite3` (read-write: `reportTicket` adds tickets,
`updateTicketStatus` moves them along). Every response carries `x-store-queries: N`, the SQL
statements the request cost (see `subgraphs.common.app`). With RUGZAK_GATEWAY_URL set, each
change tells the gateway which cached answers it made stale.
"""

from __future__ import annotations

from resolvers.ticketing.loaders import TicketingLoaders
from resolvers.ticketing.seed import SEED_VERSION, seed
from subgraphs.common.app import create_app
from subgraphs.ticketing.schema import schema

app = create_app(
    name="ticketing",
    schema=schema,
    seed=seed,
    seed_version=SEED_VERSION,
    loaders=TicketingLoaders.create,
    writable=True,
)
