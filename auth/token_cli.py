"""`rugzak token`: mint a development token with the local DevIssuer.

    rugzak token --citizen INSZ [--subject SUB] [--scope S ...] [--ttl SECONDS]
                 [--dev-issuer-dir DIR]

Prints only the token (and a newline) on stdout, so `TOKEN=$(rugzak token --citizen ...)` works.
Errors go to stderr: exit 2 for bad arguments (e.g. an INSZ that fails its mod-97 check), 1 when
the issuer's key cannot be read or created.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from auth.dev_issuer import DevIssuer
from auth.insz import normalize_insz

DEFAULT_DEV_ISSUER_DIR = Path(".rugzak") / "dev-issuer"
PROG = "rugzak token"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Print a development bearer token signed by the local dev issuer.",
    )
    parser.add_argument(
        "--citizen",
        metavar="INSZ",
        help="the citizen's INSZ (11 digits, mod-97 checked), put in the rrn claim",
    )
    parser.add_argument(
        "--subject",
        help="the sub claim (default: an opaque id derived from the INSZ)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="S",
        help="a scope to grant (repeatable)",
    )
    parser.add_argument(
        "--ttl",
        type=_positive_int,
        default=3600,
        metavar="SECONDS",
        help="lifetime of the token (default: 3600)",
    )
    parser.add_argument(
        "--dev-issuer-dir",
        type=Path,
        default=DEFAULT_DEV_ISSUER_DIR,
        metavar="DIR",
        help=f"where the dev issuer's key lives (default: {DEFAULT_DEV_ISSUER_DIR})",
    )
    return parser


def opaque_subject(issuer: str, insz: str) -> str:
    """A stable subject that does not reveal the INSZ, like the Flemish IdP's opaque `sub`."""
    return "dev-" + hashlib.sha256(f"{issuer}\x00{insz}".encode()).hexdigest()[:32]


def run(argv: Sequence[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
        insz: str | None = None
        if args.citizen is not None:
            try:
                insz = normalize_insz(args.citizen)
            except ValueError as exc:
                raise _UsageError(f"--citizen: not a valid INSZ: {exc}") from None
        if insz is None and not args.subject:
            raise _UsageError("give --citizen INSZ or --subject SUB")
        scopes: list[str] = args.scope
        if any(not scope or any(c.isspace() for c in scope) for scope in scopes):
            raise _UsageError("--scope: a scope is one non-empty word")
    except _UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0

    try:
        issuer = DevIssuer.load_or_create(args.dev_issuer_dir)
    except (OSError, ValueError) as exc:
        print(
            f"{PROG}: error: cannot use the dev issuer in {args.dev_issuer_dir}: {exc}",
            file=sys.stderr,
        )
        return 1
    subject = args.subject or opaque_subject(issuer.issuer, insz or "")
    # a citizen signed in with eID or itsme: assurance level substantial
    claims = {"acr": "substantial"} if insz is not None else {}
    token = issuer.mint(
        subject=subject, insz=insz, scopes=scopes, ttl=args.ttl, extra_claims=claims
    )
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
