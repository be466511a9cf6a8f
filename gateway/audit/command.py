"""`rugzak audit`: check and purge the access log, straight on its store.

    rugzak audit verify [--store sqlite|sqlite:PATH|postgresql://...]
    rugzak audit purge  [--store ...] [--retention-days N]

`verify` walks the hash chain from the last purge's checkpoint and names every row that breaks
it (changed, removed, out of order); it prints the head's position and hash, which can be kept
elsewhere to notice later that rows were cut off the end. Exit 0 when the chain holds, 1 when
it does not, 2 when the store cannot be read.

`purge` removes the entries older than the retention (default ten years; the gateway also does
this once a day), leaving a checkpoint that keeps the rest verifiable.

The store defaults to RUGZAK_ACCESS_LOG, else $RUGZAK_DATA_DIR/audit.sqlite3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from gateway.audit.settings import TEN_YEARS_DAYS
from gateway.audit.store import AuditStoreError, open_backend

STORE_ENV = "RUGZAK_ACCESS_LOG"


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="check or purge the access log of personal-data reads")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    store_help = "the log's store: sqlite, sqlite:PATH or postgresql://... (env RUGZAK_ACCESS_LOG)"
    verify = commands.add_parser("verify", help="check the hash chain; name every broken row")
    verify.add_argument("--store", default=None, help=store_help)
    verify.set_defaults(func=run_verify)
    purge = commands.add_parser("purge", help="remove entries past the retention period")
    purge.add_argument("--store", default=None, help=store_help)
    purge.add_argument(
        "--retention-days",
        type=float,
        default=TEN_YEARS_DAYS,
        metavar="N",
        help=f"keep this many days (default {TEN_YEARS_DAYS}: ten years)",
    )
    purge.set_defaults(func=run_purge)


def _store_url(given: str | None) -> str:
    url = given or os.environ.get(STORE_ENV, "").strip() or "sqlite"
    if url == "off":
        raise ValueError("the access log is off: give --store")
    return url


def run_verify(args: argparse.Namespace) -> int:
    try:
        backend = open_backend(_store_url(args.store))
        try:
            result = backend.verify()
        finally:
            backend.close()
    except (AuditStoreError, ValueError) as exc:
        print(f"rugzak audit: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(f"row {problem.seq} (entry {problem.entry_id}): {problem.message}")
    since = f" from the checkpoint at row {result.start_seq}" if result.start_seq else ""
    state = "BROKEN" if result.problems else "intact"
    print(
        f"{backend.description}: {result.checked} entries checked{since}; the chain is {state}. "
        f"Head: row {result.head_seq}, hash {result.head_hash}"
    )
    return 1 if result.problems else 0


def run_purge(args: argparse.Namespace) -> int:
    if args.retention_days <= 0:
        print("rugzak audit: --retention-days must be positive", file=sys.stderr)
        return 2
    cutoff_us = int((time.time() - args.retention_days * 86400) * 1_000_000)
    try:
        backend = open_backend(_store_url(args.store))
        try:
            removed = backend.purge(cutoff_us)
        finally:
            backend.close()
    except (AuditStoreError, ValueError) as exc:
        print(f"rugzak audit: {exc}", file=sys.stderr)
        return 2
    print(
        f"{backend.description}: {removed} entries older than {args.retention_days:g} days purged"
    )
    return 0
