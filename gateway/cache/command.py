"""`rugzak cache invalidate`: tell a gateway that entities changed, from a shell or a script.

    rugzak cache invalidate --tag Citizen:85671012385 --entity Ticket:id=7 \
        [--gateway URL] [--token TOKEN]

Posts to the gateway's `/cache/invalidate` with a bearer token that grants `cache:invalidate`
(env RUGZAK_TOKEN). Exit 0 when every tag was invalidated, 1 when the gateway refused or its
cache backend is down, 2 for bad arguments or an unreachable gateway.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

from gateway.registry.client import DEFAULT_GATEWAY


def add_parser(sub: Any) -> None:
    cache = sub.add_parser("cache", help="work with a running gateway's entity cache")
    commands = cache.add_subparsers(dest="cache_command", required=True)
    invalidate = commands.add_parser(
        "invalidate", help="drop cached answers that depend on these tags or entities"
    )
    invalidate.add_argument(
        "--tag", action="append", default=[], metavar="TYPE:KEY", help="e.g. Citizen:85671012385"
    )
    invalidate.add_argument(
        "--entity",
        action="append",
        default=[],
        metavar="TYPE:FIELD=VALUE[,FIELD=VALUE]",
        help="an entity by its key fields, e.g. Ticket:id=7",
    )
    invalidate.add_argument("--gateway", default=os.environ.get("RUGZAK_GATEWAY", DEFAULT_GATEWAY))
    invalidate.add_argument("--token", default=os.environ.get("RUGZAK_TOKEN"))
    invalidate.set_defaults(func=run_invalidate)


def _entity(text: str) -> dict[str, str]:
    type_name, _, fields = text.partition(":")
    pairs = [p.partition("=") for p in fields.split(",")] if fields else []
    if not type_name or not pairs or any(not k or not eq for k, eq, _ in pairs):
        raise ValueError(f"--entity {text!r}: write TYPE:FIELD=VALUE[,FIELD=VALUE]")
    return {"__typename": type_name, **{k: v for k, _, v in pairs}}


def run_invalidate(args: argparse.Namespace) -> int:
    try:
        if any(":" not in t for t in args.tag):
            raise ValueError("--tag: write TYPE:KEY, e.g. Ticket:7")
        entities = [_entity(e) for e in args.entity]
        if not args.tag and not entities:
            raise ValueError("give at least one --tag or --entity")
        if not args.token:
            raise ValueError("give --token (or set RUGZAK_TOKEN): a token with cache:invalidate")
    except ValueError as exc:
        print(f"rugzak cache invalidate: {exc}", file=sys.stderr)
        return 2
    body: dict[str, Any] = {}
    if args.tag:
        body["tags"] = args.tag
    if entities:
        body["entities"] = entities
    url = args.gateway.rstrip("/") + "/cache/invalidate"
    try:
        response = httpx.post(
            url, json=body, headers={"authorization": f"Bearer {args.token}"}, timeout=10
        )
    except httpx.HTTPError as exc:
        print(f"rugzak cache invalidate: cannot reach {url}: {exc}", file=sys.stderr)
        return 2
    try:
        answer = response.json()
    except ValueError:
        answer = {"errors": [{"message": response.text[:200]}]}
    if response.status_code == 200:
        print(f"invalidated {answer.get('invalidated')}: {', '.join(answer.get('tags', []))}")
        return 0
    errors = answer.get("errors") or [{"message": f"HTTP {response.status_code}"}]
    for error in errors:
        code = (error.get("extensions") or {}).get("code", response.status_code)
        print(f"rugzak cache invalidate: refused ({code}): {error.get('message')}", file=sys.stderr)
    return 1
