"""The gateway's access log, read for the citizen's view (gateway/audit writes it).

The store is the gateway's: RUGZAK_ACCESS_LOG (sqlite, sqlite:PATH or postgresql://...), by
default $RUGZAK_DATA_DIR/audit.sqlite3, the file `rugzak serve` writes when it runs with the same
data directory. Opened once per process, on first use; reads run on the store's own thread.
"""

from __future__ import annotations

import functools
import os
from typing import Final

from gateway.audit.store import AuditStore, StoredEntry, open_backend

STORE_ENV: Final = "RUGZAK_ACCESS_LOG"


class AccessLogOff(Exception):
    """RUGZAK_ACCESS_LOG=off: there is no log to show."""


@functools.cache
def access_log() -> AuditStore:
    url = os.environ.get(STORE_ENV, "").strip() or "sqlite"
    if url == "off":
        raise AccessLogOff("the gateway keeps no access log here (RUGZAK_ACCESS_LOG=off)")
    return AuditStore(open_backend(url))


async def entries_about(
    insz: str,
    first: int,
    before_seq: int | None,
    since_us: int | None,
    until_us: int | None,
) -> list[StoredEntry]:
    """The newest `first` entries about citizen `insz`, before position `before_seq`."""
    return await access_log().page(insz, first, before_seq, since_us, until_us)
