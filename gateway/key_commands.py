"""`rugzak gateway-keys list|rotate` and `rugzak invalidation-key NAME`.

    rugzak gateway-keys list   [--dir DIR]            the keys, newest last, and which one signs
    rugzak gateway-keys rotate [--dir DIR] [--keep N] a new key (it signs once 20 s old); all but
                                                      the newest N (default 2) are removed
    rugzak invalidation-key NAME                      the key subgraph NAME signs its cache
                                                      invalidations with (from the master secret
                                                      in RUGZAK_INVALIDATION_SECRET[_FILE])

DIR defaults to what `rugzak serve` uses: RUGZAK_GATEWAY_KEY_DIR, else gateway-keys in the data
directory. Every gateway serving from DIR picks a rotation up within 5 s, without a restart.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from auth.gateway_keys import GatewayKeys, rotate


def add_parsers(sub: Any) -> None:
    keys = sub.add_parser("gateway-keys", help="the keys the gateway signs subgraph tokens with")
    commands = keys.add_subparsers(dest="keys_command", required=True)
    for name, text in (("list", "the keys and which one signs"), ("rotate", "add a new key")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--dir", help="the key directory (default: as rugzak serve)")
        if name == "rotate":
            command.add_argument("--keep", type=int, default=2, metavar="N")
    keys.set_defaults(func=run_keys)
    derive = sub.add_parser(
        "invalidation-key", help="the key a subgraph signs its cache invalidations with"
    )
    derive.add_argument("name", help="the subgraph's name in the supergraph")
    derive.set_defaults(func=run_invalidation_key)


def run_keys(args: argparse.Namespace) -> int:
    from gateway.serve_config import gateway_key_dir

    directory = gateway_key_dir(args.dir)
    try:
        if args.keys_command == "rotate":
            new = rotate(directory, keep=args.keep)
            print(f"new key {new.kid} in {directory}: it signs from 20 s from now")
        keys = GatewayKeys.load_or_create(directory)
    except (OSError, ValueError) as exc:
        print(f"rugzak gateway-keys: {exc}", file=sys.stderr)
        return 1
    signing = keys.signing_key().kid
    for key in keys.keys:
        made = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created))
        print(f"{key.kid}  made {made}{'  (signs)' if key.kid == signing else ''}")
    return 0


def run_invalidation_key(args: argparse.Namespace) -> int:
    from auth.invalidation_keys import derive_key, masters_from_env

    try:
        masters = masters_from_env()
    except (OSError, ValueError) as exc:
        print(f"rugzak invalidation-key: {exc}", file=sys.stderr)
        return 2
    if not masters:
        print(
            "rugzak invalidation-key: set RUGZAK_INVALIDATION_SECRET (or _FILE) to the "
            "gateway's master secret",
            file=sys.stderr,
        )
        return 2
    print(derive_key(masters[0], args.name).decode("ascii"))
    return 0
