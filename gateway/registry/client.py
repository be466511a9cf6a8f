"""`rugzak registry add|check|list|show|remove|history|rollback`: the registry's REST API from the
command line.

    rugzak registry add NAME --url URL [--owner ORG] [--force]
    rugzak registry check NAME --url URL [--owner ORG]
    rugzak registry list
    rugzak registry show NAME [--sdl]
    rugzak registry remove NAME [--force]
    rugzak registry history NAME
    rugzak registry rollback NAME --version N [--force]
    rugzak registry urls [ORG [--allow PATTERN]... [--forget PATTERN]... [--clear]]
    rugzak registry claims NAME [--grant CLAIM,... | --default]   (registry:admin to change)
    (each also takes --gateway URL (env RUGZAK_GATEWAY, default http://127.0.0.1:4000),
     --token TOKEN (env RUGZAK_TOKEN) and --json)

Exit status: 0 done (or, for check, it would be accepted); 1 refused, with the reason on stderr
(what does not compose, whose fields, which breaking changes, and what to change); 2 bad
arguments or the gateway unreachable.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx
import orjson

DEFAULT_GATEWAY = "http://127.0.0.1:4000"


def add_parser(sub: Any) -> None:
    """Add `registry` and its commands to the `rugzak` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--gateway",
        default=os.environ.get("RUGZAK_GATEWAY", DEFAULT_GATEWAY),
        help=f"the gateway's URL (env RUGZAK_GATEWAY, default {DEFAULT_GATEWAY})",
    )
    common.add_argument(
        "--token",
        default=os.environ.get("RUGZAK_TOKEN"),
        help="bearer token, e.g. from `rugzak token --registry --owner NIS` (env RUGZAK_TOKEN)",
    )
    common.add_argument("--json", action="store_true", help="print the answer as JSON")

    registry = sub.add_parser("registry", help="register, check and roll back subgraphs")
    commands = registry.add_subparsers(dest="registry_command", required=True)

    add = commands.add_parser(
        "add", parents=[common], help="add or update a subgraph and make it live"
    )
    check = commands.add_parser(
        "check", parents=[common], help="what add would do, without making anything live"
    )
    for parser in (add, check):
        parser.add_argument("name")
        parser.add_argument("--url", required=True, help="the subgraph's routing URL")
        parser.add_argument("--owner", help="organisation: NIS code or agency code")
        parser.add_argument("--force", action="store_true", help="go live despite breaking changes")
    commands.add_parser("list", parents=[common], help="the registered subgraphs")
    show = commands.add_parser("show", parents=[common], help="one subgraph and its versions")
    show.add_argument("name")
    show.add_argument("--sdl", action="store_true", help="print only the current SDL")
    remove = commands.add_parser("remove", parents=[common], help="take a subgraph out")
    remove.add_argument("name")
    remove.add_argument("--force", action="store_true", help="remove despite breaking changes")
    history = commands.add_parser("history", parents=[common], help="every version")
    history.add_argument("name")
    rollback = commands.add_parser(
        "rollback", parents=[common], help="make an earlier version live again"
    )
    rollback.add_argument("name")
    rollback.add_argument("--version", type=int, required=True, metavar="N")
    rollback.add_argument("--force", action="store_true", help="despite breaking changes")
    urls = commands.add_parser(
        "urls",
        parents=[common],
        help="the URLs organisations may register (changing them needs registry:admin)",
    )
    urls.add_argument("org", nargs="?", help="an organisation (NIS code or agency code)")
    urls.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="allow URLs like https://*.gent.be/graphql or http://10.0.0.5:* (repeatable)",
    )
    urls.add_argument(
        "--forget", action="append", default=[], metavar="PATTERN", help="(repeatable)"
    )
    urls.add_argument("--clear", action="store_true", help="forget all of ORG's patterns first")
    claims = commands.add_parser(
        "claims", parents=[common], help="the caller claims a subgraph's tokens carry"
    )
    claims.add_argument("name")
    change = claims.add_mutually_exclusive_group()
    change.add_argument(
        "--grant",
        metavar="CLAIM,...",
        help="exactly these claims from now on (sub, rrn, org, scope, roles, purpose, acr, "
        "client_id; an empty string for none)",
    )
    change.add_argument(
        "--default", action="store_true", help="back to the default (no caller claims)"
    )
    registry.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    command = args.registry_command
    base = args.gateway.rstrip("/") + "/registry"
    method, path, body = _request(command, args)
    headers = {"authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        response = httpx.request(
            method,
            base + path,
            content=orjson.dumps(body) if body is not None else None,
            headers={**headers, "content-type": "application/json"},
            timeout=60.0,
        )
    except httpx.HTTPError as exc:
        message = f"rugzak registry: cannot reach the gateway at {args.gateway}: {exc}"
        print(message, file=sys.stderr)
        return 2
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        print(
            f"rugzak registry: HTTP {response.status_code} from {base + path}: "
            f"{response.text[:300]} (is the gateway serving with --registry?)",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    if response.status_code != 200:
        print(refusal_text(response.status_code, answer), file=sys.stderr)
        return 1
    if not args.json:
        print(_render(command, args, answer))
    return 0


def _request(command: str, args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    name = getattr(args, "name", None)
    if command in ("add", "check"):
        body: dict[str, Any] = {"url": args.url, "force": args.force}
        if args.owner:
            body["owner"] = args.owner
        path = f"/subgraphs/{name}" if command == "add" else f"/check/{name}"
        return "POST", path, body
    if command == "list":
        return "GET", "/subgraphs", None
    if command == "show":
        return "GET", f"/subgraphs/{name}", None
    if command == "remove":
        return "DELETE", f"/subgraphs/{name}", {"force": args.force}
    if command == "history":
        return "GET", f"/subgraphs/{name}/history", None
    if command == "urls":
        org = args.org
        if org and (args.allow or args.forget or args.clear):
            return (
                "POST",
                f"/url-patterns/{org}",
                {
                    "allow": args.allow,
                    "forget": args.forget,
                    "clear": args.clear,
                },
            )
        if args.allow or args.forget or args.clear:
            raise SystemExit("rugzak registry urls: --allow, --forget and --clear need an ORG")
        return "GET", "/url-patterns", None
    if command == "claims":
        if args.default:
            return "PUT", f"/subgraphs/{name}/claims", {"claims": None}
        if args.grant is not None:
            granted = [c.strip() for c in args.grant.split(",") if c.strip()]
            return "PUT", f"/subgraphs/{name}/claims", {"claims": granted}
        return "GET", f"/subgraphs/{name}", None
    return "POST", f"/subgraphs/{name}/rollback", {"version": args.version, "force": args.force}


def refusal_text(status: int, answer: Any) -> str:
    """A refusal as a person reads it: the reason, then one line per problem with its fix."""
    if not isinstance(answer, dict):
        return f"refused (HTTP {status}): {answer}"
    lines = [f"refused (HTTP {status}, {answer.get('code')}): {answer.get('message')}"]
    for error in answer.get("errors", []):
        where = f" [{error['coordinate']}]" if error.get("coordinate") else ""
        who = f" (subgraphs {', '.join(error['subgraphs'])})" if error.get("subgraphs") else ""
        hint = f"\n      to fix: {error['hint']}" if error.get("hint") else ""
        lines.append(f"  - {error.get('code')}{where}{who}: {error.get('message')}{hint}")
    for change in answer.get("breakingChanges", []):
        hint = f"\n      to fix: {change['hint']}" if change.get("hint") else ""
        lines.append(f"  - breaking {change['code']}: {change['description']}{hint}")
    for change in answer.get("dangerousChanges", []):
        lines.append(f"  - dangerous {change['code']}: {change['description']}")
    return "\n".join(lines)


def _changes(answer: dict[str, Any]) -> list[str]:
    lines = []
    for change in answer.get("breakingChanges", []):
        lines.append(f"  - breaking (forced) {change['code']}: {change['description']}")
    for change in answer.get("dangerousChanges", []):
        lines.append(f"  - dangerous {change['code']}: {change['description']}")
    return lines


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _version_rows(versions: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["VERSION", "ACTION", "WHO", "WHEN (UTC)", "SUPERGRAPH", "ROUTING URL", "NOTE"]]
    for v in versions:
        note = []
        if v.get("restoredVersion"):
            note.append(f"restored v{v['restoredVersion']}")
        if v.get("forced"):
            note.append("forced")
        rows.append(
            [
                str(v["version"]),
                v["action"],
                v["who"],
                v["at"],
                str(v["supergraphVersion"]),
                v["routingUrl"],
                ", ".join(note),
            ]
        )
    return rows


def _render_urls(args: argparse.Namespace, answer: dict[str, Any]) -> str:
    if "patterns" in answer:  # after a change: that organisation's patterns
        organisations = {answer["organisation"]: answer["patterns"]}
        everyone: list[str] = []
    else:
        organisations = answer.get("organisations", {})
        everyone = answer.get("everyOrganisation", [])
        if args.org:
            organisations = {args.org: organisations.get(args.org, [])}
    rows = [["ORGANISATION", "ALLOWED URL PATTERN"]]
    rows += [["(every organisation)", p] for p in everyone]
    for org, patterns in sorted(organisations.items()):
        rows += [[org, p] for p in patterns] or [[org, "(none: any URL on public addresses)"]]
    if len(rows) == 1:
        return "no URL patterns: organisations may register URLs on public addresses only"
    return _table(rows)


def _render(command: str, args: argparse.Namespace, answer: dict[str, Any]) -> str:
    if command in ("add", "remove", "rollback", "check"):
        if not answer.get("changed", True) and command != "check":
            return str(answer.get("message"))
        if command == "check":
            head = (
                f"{answer['subgraph']}: {answer['action']} would be accepted as version "
                f"{answer['version']} (owner {answer['owner']}; composed in "
                f"{answer['composeMs']} ms)"
            )
            if "composeMs" not in answer:
                head = str(answer.get("message"))
        else:
            head = (
                f"{answer['subgraph']}: {answer['action']} done, version {answer['version']} is "
                f"live (owner {answer['owner']}, supergraph version {answer['supergraphVersion']},"
                f" composed in {answer['composeMs']} ms)"
            )
        return "\n".join([head, *_changes(answer)])
    if command == "claims":
        if "message" in answer:
            return str(answer["message"])
        granted = ", ".join(answer.get("claims", [])) or "no caller claims"
        how = " (the default)" if answer.get("claimsDefault") else ""
        by = ""
        if answer.get("claimsChangedBy"):
            by = f"; set by {answer['claimsChangedBy']} at {answer['claimsChangedAt']}"
        return f"{answer['name']}'s tokens carry: {granted}{how}{by}"
    if command == "list":
        rows = [["NAME", "OWNER", "VERSION", "LIVE", "CLAIMS", "ROUTING URL", "LAST CHANGE"]]
        for s in answer["subgraphs"]:
            rows.append(
                [
                    s["name"],
                    s["owner"],
                    str(s["currentVersion"]),
                    "yes" if s["live"] else "no",
                    ",".join(s.get("claims", [])) or "-",
                    s["routingUrl"],
                    f"{s['lastAction']} by {s['lastChangedBy']} at {s['lastChangedAt']}",
                ]
            )
        if len(rows) == 1:
            return f"no subgraphs (supergraph version {answer['supergraphVersion']})"
        return _table(rows) + f"\n(supergraph version {answer['supergraphVersion']})"
    if command == "urls":
        return _render_urls(args, answer)
    if command == "show":
        if args.sdl:
            return str(answer["sdl"]).rstrip("\n")
        head = (
            f"{answer['name']}: owner {answer['owner']}, version {answer['currentVersion']}, "
            f"{'live' if answer['live'] else 'removed'}, routing URL {answer['routingUrl']}, "
            f"claims {','.join(answer.get('claims', [])) or '-'}"
        )
        return head + "\n" + _table(_version_rows(answer["versions"]))
    return _table(_version_rows(answer["versions"]))
