"""The access log's settings (`rugzak serve --access-log ...`; see gateway/audit/log.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

FAIL_CLOSED: Final = ("staff", "everyone", "nobody")
TEN_YEARS_DAYS: Final = 3653


@dataclass(frozen=True, slots=True)
class AccessLogSettings:
    # sqlite ($RUGZAK_DATA_DIR/audit.sqlite3), sqlite:PATH or postgresql://...
    store: str = "sqlite"
    # where entries wait while the store is down (default $RUGZAK_DATA_DIR/audit-spool)
    spool_dir: Path | None = None
    # whose personal reads are refused while nothing can record them: staff, everyone, nobody
    fail_closed: str = "staff"
    # entries older than this many days are purged (0: kept for ever); ten years by default
    retention_days: float = TEN_YEARS_DAYS
    batch_size: int = 256
    # seconds a batch waits for more entries: fewer, larger transactions (each one fsync'd)
    linger: float = 0.25
    queue_limit: int = 10_000  # entries waiting for the writer; then `record` waits for room
    retry_interval: float = 1.0  # seconds between attempts at a store (or spool) that failed
    purge_interval: float = 24 * 3600.0
