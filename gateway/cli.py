"""The `rugzak` command line: serve, plan, compose, registry, cache, token, demo."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway import config_file, observe_options, serve_options
from gateway.errors import GatewayError
from gateway.http import edge
from gateway.serve_config import gateway_config, positive_int


def _serve(args: argparse.Namespace) -> int:
    from auth.verifier import verifier_from_env
    from gateway.http.app import create_app
    from gateway.http.serving import serve
    from gateway.telemetry import configure_logging

    configure_logging(args.log_level, observe_options.log_format(args))
    config = gateway_config(args)
    env = os.environ
    try:
        app = create_app(config, verifier_from_env(trusted_issuers=args.trusted_issuers))
    except (GatewayError, ValueError, ImportError) as exc:
        print(f"rugzak: {exc}", file=sys.stderr)
        return 2
    serve(
        app,
        host=args.host,
        port=args.port,
        fd=args.fd,
        log_level=args.log_level,
        workers=args.workers or positive_int(env.get("RUGZAK_WORKERS") or "1", "RUGZAK_WORKERS"),
        limits=edge.connection_limits(args),
        admin=edge.admin_address(args),
    )
    return 0


def _plan(args: argparse.Namespace) -> int:
    from graphql import parse, validate

    from gateway.operation import normalize, select_operation
    from gateway.planning import Planner
    from gateway.planning.render import render_plan
    from gateway.schema.supergraph import load_supergraph, read_supergraph_source

    try:
        supergraph = load_supergraph(read_supergraph_source(args.supergraph))
        query = Path(args.query_file).read_text(encoding="utf-8")
        document = parse(query)
        errors = validate(supergraph.api_schema, document)
        if errors:
            for error in errors:
                print(f"rugzak: invalid operation: {error.message}", file=sys.stderr)
            return 1
        operation = select_operation(document, args.operation_name)
        plan = Planner(supergraph).plan(normalize(supergraph.api_schema, document, operation, {}))
    except (GatewayError, OSError) as exc:
        print(f"rugzak: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a GraphQL syntax error, reported without a traceback
        print(f"rugzak: {exc}", file=sys.stderr)
        return 1
    print(render_plan(plan))
    return 0


def _compose(args: argparse.Namespace) -> int:
    from gateway.composition.command import run_compose

    return run_compose(args.sources, args.output, args.routing_url)


def _token(argv: Sequence[str]) -> int:
    from auth.token_cli import run

    return run(argv)


def _config_check(args: argparse.Namespace) -> int:
    """`rugzak config check FILE`: what `serve --config FILE` would refuse, without serving."""
    from auth.verifier import verifier_from_env

    serve = argparse.ArgumentParser(prog="rugzak serve")
    serve_options.add_arguments(serve)
    try:  # every key is checked, whatever the environment would override
        sources = config_file.apply(serve, [args.file], {})
    except config_file.ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for action in serve._actions:
        action.required = False  # may come as a flag
    settings = serve.parse_args([])
    config_file.settle(settings, serve, sources, {})
    try:
        gateway_config(settings)
        verifier_from_env(trusted_issuers=settings.trusted_issuers)
    except SystemExit as exc:
        print(config_file.locate(str(exc.code), settings), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(config_file.locate(f"rugzak: {exc}", settings), file=sys.stderr)
        return 1
    print(f"{args.file}: {len(sources)} settings, all valid")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rugzak", description="A GraphQL federation gateway.")
    parser.add_argument("--version", action="version", version=f"rugzak {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a supergraph on /graphql")
    serve_options.add_arguments(serve)
    serve.set_defaults(func=_serve)
    _other_commands(sub)
    return parser


def _other_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser("plan", help="print the query plan of an operation")
    plan.add_argument("--supergraph", required=True)
    plan.add_argument("--operation-name")
    plan.add_argument("query_file")
    plan.set_defaults(func=_plan)

    compose = sub.add_parser("compose", help="compose subgraphs into a supergraph SDL")
    compose.add_argument("sources", nargs="+", metavar="NAME=URL_OR_FILE")
    compose.add_argument("-o", "--output", help="write the supergraph here (default: stdout)")
    compose.add_argument(
        "--routing-url", action="append", default=[], metavar="NAME=URL", help="for a file source"
    )
    compose.set_defaults(func=_compose)

    from gateway.registry.client import add_parser as add_registry_parser

    add_registry_parser(sub)
    from gateway.cache.command import add_parser as add_cache_parser

    add_cache_parser(sub)
    from gateway.audit.command import add_parser as add_audit_parser

    add_audit_parser(sub)
    from gateway.key_commands import add_parsers as add_key_parsers

    add_key_parsers(sub)
    sub.add_parser("token", help="mint a development token (see `rugzak token --help`)")
    demo = sub.add_parser(
        "demo",
        help="run the reference subgraphs and the gateway (takes serve's options)",
        description="The reference subgraphs and the gateway, for trying Rugzak and developing "
        "a subgraph against it. Takes serve's options and --config over its own settings; "
        "it sets its supergraph, subgraph URLs, issuer and registry itself.",
    )
    serve_options.add_arguments(demo)
    for action in demo._actions:
        action.required = False  # the demo serves its own supergraph
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="start the demo's data anew (the subgraphs' stores and the access log); its "
        "issuer and subgraph secret stay",
    )
    demo.set_defaults(func=_demo)
    config = sub.add_parser("config", help="check a configuration file (`rugzak config check`)")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check", help="check a TOML file of serve's settings as `--config FILE` would read it"
    )
    check.add_argument("file", type=Path)
    check.set_defaults(func=_config_check)


def version() -> str:
    """The installed distribution's version (the checkout's when run from an editable install)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("rugzak")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown"


def _base_config(command: str) -> list[Path]:
    """The settings a command starts from, under the user's file: the demo's own."""
    if command == "demo":
        from gateway.demo import DEMO_CONFIG

        return [DEMO_CONFIG]
    return []


def _command(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser | None = action.choices.get(name)
            return found
    return None


def parse(argv: Sequence[str], env: Mapping[str, str] = os.environ) -> argparse.Namespace:
    """The command line, over the config file a command with `--config` was given (or
    RUGZAK_CONFIG names): flags, then environment variables, then the file, then defaults."""
    parser = build_parser()
    command = _command(parser, argv[0]) if argv else None
    if command is None or not any(a.dest == "config" for a in command._actions):
        return parser.parse_args(argv)
    path = config_file.config_path(argv[1:], env)
    files = [*_base_config(argv[0]), *([path] if path else [])]
    try:
        sources = config_file.apply(command, files, env)
    except config_file.ConfigError as exc:
        raise SystemExit("\n".join(f"rugzak: {line}" for line in str(exc).splitlines())) from None
    args = parser.parse_args(argv)
    config_file.settle(args, command, sources, env)
    return args


def _run(argv: list[str]) -> int:
    if argv and argv[0] == "token":
        return _token(argv[1:])
    args = parse(argv)
    try:
        return int(args.func(args))
    except SystemExit as exc:  # a bad setting: say where it came from (flag, env, file line)
        if isinstance(exc.code, str):
            raise SystemExit(config_file.locate(exc.code, args)) from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
    except BrokenPipeError:
        # `rugzak plan ... | head`: the reader is gone, which is no error of ours. Point stdout
        # at /dev/null so that the interpreter's last flush at exit has nowhere to fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # what a shell reports for a process SIGPIPE stopped (128 + 13)
    return code
