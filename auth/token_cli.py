"""`rugzak token`: mint a development token with the local DevIssuer.

    rugzak token --citizen INSZ [--acr LEVEL] [--subject SUB] [--scope S ...] [--client-id APP]
    rugzak token --staff --subject SUB [--scope S ...] [--purpose P] [--municipality NIS]
                 [--acr LEVEL] [--role R ...] [--client-id APP]
    rugzak token --subject SUB [--scope S ...] [--acr LEVEL] [--client-id APP]
    rugzak token --registry --owner ORG [--subject SUB] [--scope S ...]
    (each also takes [--ttl SECONDS] [--dev-issuer-dir DIR])
    rugzak token --for-subgraph NAME ...   the token the demo's gateway would send subgraph NAME
                                           for that caller [--gateway-key-dir DIR]

The key is the demo's issuer's (`rugzak demo` keeps it in $RUGZAK_DEMO_DIR, else in
~/.local/share/rugzak/demo), found from any folder; without a demo, and without
--dev-issuer-dir, nothing is minted (exit 1) and the message says where it looked.

A citizen's token carries the INSZ in `rrn`; a civil servant's the role `staff` (plus any
`--role`) in `roles`, the municipality's NIS code in `org` and the stated purpose in `purpose`:
the claims `auth.claims` maps to the Principal that the built-in policies read (`staff`,
`purpose:P`, `acr:LEVEL`, `scope:S`). Citizens and civil servants sign in at level substantial
unless `--acr` says otherwise. A registry token (for a municipality's CI or its developers)
carries the scope `registry:write` and the organisation in `org`: it may manage that
organisation's subgraphs in the registry (`rugzak registry ...`).

With `--for-subgraph NAME` it prints instead what the gateway sends subgraph NAME for that caller
(auth/subgraph_tokens.py): signed with the demo gateway's own key (ES256, typ rugzak-subgraph+jwt,
iss rugzak-gateway, aud NAME, at most 300 s) and carrying the caller's claims, so that a subgraph
developer can call their subgraph directly, as the gateway would. The key must exist (the demo
made it): a new one would sign tokens the published JWKS does not hold.

Prints only the token (and a newline) on stdout, so `TOKEN=$(rugzak token --citizen ...)` works.
Errors go to stderr: exit 2 for bad arguments (e.g. an INSZ that fails its mod-97 check), 1 when
the issuer's key cannot be read or created.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from auth.assurance import ACR_LEVELS
from auth.dev_issuer import DEMO_DIR_ENV, KEY_FILE, DevIssuer, demo_issuer_dir
from auth.insz import normalize_insz

PROG = "rugzak token"
DEFAULT_ACR = "substantial"  # a citizen or civil servant signed in with eID or itsme

_WORD = re.compile(r"[!-~]+")  # one word of visible ASCII: no spaces, nothing to escape
_NIS_CODE = re.compile(r"[0-9]{5}")
_STAFF_ONLY = ("purpose", "municipality", "role")
_ORGANISATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # NIS code or agency code
REGISTRY_SCOPE = "registry:write"

EXAMPLES = """examples:
  a citizen:                  rugzak token --citizen 85671012385
  a civil servant of Gent:    rugzak token --staff --subject civil-servant-1 \\
                                --scope tickets:read --purpose ticketing --municipality 44021
  bank accounts (level high): rugzak token --staff --subject case-handler-7 \\
                                --scope allowances:read --purpose child-benefit --acr high
  Gent's subgraphs (registry): rugzak token --registry --owner 44021
  calling subgraph parking directly, as the demo's gateway would for Ann:
                              rugzak token --for-subgraph parking --citizen 85671012385
"""


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


def _acr(text: str) -> str:
    level = text.strip().lower()
    if level not in ACR_LEVELS:
        raise argparse.ArgumentTypeError(f"not one of {', '.join(ACR_LEVELS)}: {text!r}")
    return level


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Print a development bearer token signed by the local dev issuer.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--citizen",
        metavar="INSZ",
        help="a citizen's token: their INSZ (11 digits, mod-97 checked), put in the rrn claim",
    )
    kind.add_argument(
        "--staff",
        action="store_true",
        help="a civil servant's token (role staff); needs --subject",
    )
    kind.add_argument(
        "--registry",
        action="store_true",
        help=f"a token that manages one organisation's subgraphs in the registry (scope "
        f"{REGISTRY_SCOPE}); needs --owner",
    )
    parser.add_argument(
        "--owner",
        metavar="ORG",
        help="--registry: the organisation, a NIS code (44021) or agency code (the org claim)",
    )
    parser.add_argument(
        "--subject",
        help="the sub claim (default for a citizen: an opaque id derived from the INSZ; for "
        "--registry: registry-ORG)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="S",
        help="a scope to grant (repeatable)",
    )
    parser.add_argument(
        "--acr",
        type=_acr,
        metavar="LEVEL",
        help=f"assurance level: {', '.join(ACR_LEVELS)} (default for citizens and civil "
        f"servants: {DEFAULT_ACR})",
    )
    parser.add_argument(
        "--purpose",
        metavar="P",
        help="--staff: why they read, e.g. child-benefit (the purpose claim)",
    )
    parser.add_argument(
        "--municipality",
        metavar="NIS",
        help="--staff: the NIS code of their municipality, e.g. 44021 (the org claim)",
    )
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="R",
        help="--staff: a role besides staff (repeatable)",
    )
    parser.add_argument(
        "--client-id",
        metavar="APP",
        help="the application the token was issued to (the client_id claim)",
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
        metavar="DIR",
        help="where the dev issuer's key lives (made when missing; default: the demo's issuer, "
        "in $RUGZAK_DEMO_DIR/dev-issuer, else ~/.local/share/rugzak/demo/dev-issuer)",
    )
    parser.add_argument(
        "--for-subgraph",
        metavar="NAME",
        help="print the token the demo's gateway sends subgraph NAME for this caller (signed "
        "with the gateway's key, aud NAME, at most 300 s), to call a subgraph directly",
    )
    parser.add_argument(
        "--gateway-key-dir",
        type=Path,
        metavar="DIR",
        help="--for-subgraph: the gateway's key directory (default: the demo's, in "
        "$RUGZAK_DEMO_DIR/gateway-keys)",
    )
    return parser


def _for_subgraph(client_token: str, name: str, directory: Path, ttl: int) -> str:
    """What the gateway would send subgraph `name` for the caller of `client_token`."""
    from jose import jwt

    from auth.claims import principal_from_claims
    from auth.gateway_keys import GatewayKeys
    from auth.subgraph_tokens import ALL_CLAIMS, SubgraphTokenMinter

    if not any(directory.glob("*.pem")):
        raise OSError(
            f"no gateway key in {directory}: start the demo once, or give --gateway-key-dir"
        )
    claims = jwt.get_unverified_claims(client_token)  # minted just now, by us
    principal = principal_from_claims(claims, token=client_token)
    minter = SubgraphTokenMinter(GatewayKeys.load_or_create(directory), ttl=min(max(ttl, 2), 300))
    return minter.token(principal, name, ALL_CLAIMS)


def opaque_subject(issuer: str, insz: str) -> str:
    """A stable subject that does not reveal the INSZ, like the Flemish IdP's opaque `sub`."""
    return "dev-" + hashlib.sha256(f"{issuer}\x00{insz}".encode()).hexdigest()[:32]


def _check_words(option: str, values: Sequence[str]) -> None:
    for value in values:
        if not _WORD.fullmatch(value):
            raise _UsageError(f"{option}: one word without spaces, got {value!r}")


def _check(args: argparse.Namespace) -> str | None:
    """The normalized INSZ of a citizen's token (None otherwise); _UsageError for bad args."""
    insz: str | None = None
    if args.citizen is not None:
        try:
            insz = normalize_insz(args.citizen)
        except ValueError as exc:
            raise _UsageError(f"--citizen: not a valid INSZ: {exc}") from None
    if args.subject is not None and not args.subject.strip():
        raise _UsageError("--subject: must not be empty")
    if args.staff and not args.subject:
        raise _UsageError("--staff needs --subject: the civil servant's account id")
    if args.registry and not args.owner:
        raise _UsageError("--registry needs --owner: the organisation's NIS or agency code")
    if args.owner is not None and not args.registry:
        raise _UsageError("--owner: only for a registry token (--registry)")
    if args.owner is not None and not _ORGANISATION.fullmatch(args.owner):
        raise _UsageError(f"--owner: a NIS code or agency code, got {args.owner!r}")
    if insz is None and not args.staff and not args.registry and not args.subject:
        raise _UsageError("give --citizen INSZ, --staff --subject SUB, or --subject SUB")
    if not args.staff:
        given = [f"--{name}" for name in _STAFF_ONLY if getattr(args, name) not in (None, [])]
        if given:
            raise _UsageError(f"{', '.join(given)}: only for a civil servant's token (--staff)")
    _check_words("--scope", args.scope)
    _check_words("--role", args.role)
    if args.purpose is not None:
        _check_words("--purpose", [args.purpose])
    if args.client_id is not None:
        _check_words("--client-id", [args.client_id])
    if args.for_subgraph is not None:
        _check_words("--for-subgraph", [args.for_subgraph])
    if args.gateway_key_dir is not None and args.for_subgraph is None:
        raise _UsageError("--gateway-key-dir: only with --for-subgraph")
    if args.municipality is not None and not _NIS_CODE.fullmatch(args.municipality):
        raise _UsageError(
            f"--municipality: a NIS code is 5 digits (e.g. 44021 for Gent), "
            f"got {args.municipality!r}"
        )
    return insz


def run(argv: Sequence[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
        insz = _check(args)
    except _UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0

    directory: Path = args.dev_issuer_dir or demo_issuer_dir()
    if args.dev_issuer_dir is None and not (directory / KEY_FILE).is_file():
        # a new issuer here would sign tokens no running gateway trusts (UNKNOWN_SIGNING_KEY)
        print(
            f"{PROG}: error: no development issuer in {directory}, where the demo keeps its "
            f"own: start the demo once (`rugzak demo` or `make run`; {DEMO_DIR_ENV} moves it), "
            "or name an issuer's directory with --dev-issuer-dir DIR",
            file=sys.stderr,
        )
        return 1
    try:
        issuer = DevIssuer.load_or_create(directory)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: cannot use the dev issuer in {directory}: {exc}", file=sys.stderr)
        return 1
    subject = args.subject or opaque_subject(issuer.issuer, insz or "")
    if args.registry and not args.subject:
        subject = f"registry-{args.owner}"
    person = insz is not None or args.staff
    scopes = [REGISTRY_SCOPE, *args.scope] if args.registry else args.scope
    token = issuer.mint(
        subject=subject,
        insz=insz,
        scopes=list(dict.fromkeys(scopes)),
        ttl=args.ttl,
        roles=["staff", *args.role] if args.staff else [],
        organisation=args.municipality or args.owner,
        acr=args.acr or (DEFAULT_ACR if person else None),
        purpose=args.purpose,
        client_id=args.client_id,
    )
    if args.for_subgraph is not None:
        keys = args.gateway_key_dir or directory.parent / "gateway-keys"
        try:
            token = _for_subgraph(token, args.for_subgraph, keys, args.ttl)
        except (OSError, ValueError) as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 1
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
