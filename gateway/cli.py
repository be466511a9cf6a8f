"""The `rugzak` command line: serve, plan, compose, registry, cache, token, demo."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import config_file, env_options, observe_options
from gateway.errors import GatewayError
from gateway.http import edge

if TYPE_CHECKING:
    from gateway.audit.settings import AccessLogSettings
    from gateway.config import GatewayConfig
    from gateway.execution.resilience import SubgraphPolicies
    from gateway.registry.limits import RegistryLimits


def _key_values(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise SystemExit(f"rugzak: {what} must look like NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def _timeouts(items: Sequence[str]) -> tuple[float, dict[str, float]]:
    """`--subgraph-timeout 10` sets the default, `--subgraph-timeout ticketing=2` one subgraph."""
    default = 10.0
    per_subgraph: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            seconds = float(value)
        except ValueError:
            msg = f"rugzak: --subgraph-timeout wants SECONDS or NAME=SECONDS: {item!r}"
            raise SystemExit(msg) from None
        if seconds <= 0:
            raise SystemExit("rugzak: --subgraph-timeout must be positive")
        if sep:
            per_subgraph[name] = seconds
        else:
            default = seconds
    return default, per_subgraph


# the resilience flags: flag -> (SubgraphPolicy field, what the value is, parse, smallest value)
_POLICY_FLAGS: dict[str, tuple[str, str, Callable[[str], float], float]] = {
    "--subgraph-max-in-flight": ("max_in_flight", "N", int, 1),
    "--subgraph-queue": ("max_queued", "N", int, 0),
    "--subgraph-retries": ("retries", "N", int, 0),
    "--subgraph-retry-budget": ("retry_budget", "PERCENT", lambda v: float(v) / 100, 0),
    "--breaker-failures": ("breaker_failures", "N", int, 0),
    "--breaker-error-rate": ("breaker_error_rate", "PERCENT", lambda v: float(v) / 100, 0),
    "--breaker-slow": ("breaker_slow", "SECONDS", float, 0),
    "--breaker-open": ("breaker_open", "SECONDS", float, 0.001),
}


def _env_name(flag: str) -> str:
    return "RUGZAK_" + flag.lstrip("-").upper().replace("-", "_")


def _subgraph_policies(args: argparse.Namespace) -> SubgraphPolicies:
    """Each resilience flag (or its env variable, items separated by spaces or commas): a
    default (`--breaker-slow 2`) or one subgraph's value (`--breaker-slow ticketing=5`)."""
    from gateway.execution.resilience import SubgraphPolicies

    defaults: dict[str, Any] = {}
    per_subgraph: dict[str, dict[str, Any]] = {}
    for flag, (name, unit, parse, least) in _POLICY_FLAGS.items():
        env = os.environ.get(_env_name(flag), "")
        items = [*env.replace(",", " ").split(), *getattr(args, name)]
        for item in items:
            subgraph, sep, text = item.rpartition("=")
            try:
                value = parse(text)
            except ValueError:
                raise SystemExit(f"rugzak: {flag} wants {unit} or NAME={unit}: {item!r}") from None
            if value < least or (unit == "PERCENT" and value > 1):
                raise SystemExit(f"rugzak: {flag} is out of range: {item!r}")
            if sep:
                per_subgraph.setdefault(subgraph, {})[name] = value
            else:
                defaults[name] = value
    return SubgraphPolicies.build(defaults, per_subgraph)


def _seconds(given: float | None, env: str, default: float, what: str, zero: bool) -> float:
    text = os.environ.get(env, "").strip()
    try:
        value = given if given is not None else float(text) if text else default
    except ValueError:
        raise SystemExit(f"rugzak: {env} wants seconds, got {text!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise SystemExit(f"rugzak: {what} must be {'0 or ' if zero else ''}positive")
    return value


def _entity_ttls(items: Sequence[str]) -> dict[str, float]:
    """`--entity-ttl Municipality=3600`: cache a type's entities that long without Cache-Control."""
    ttls: dict[str, float] = {}
    for name, value in _key_values(items, "--entity-ttl").items():
        try:
            ttls[name] = float(value)
        except ValueError:
            raise SystemExit(f"rugzak: --entity-ttl wants TYPE=SECONDS, got {value!r}") from None
        if ttls[name] <= 0:
            raise SystemExit("rugzak: --entity-ttl must be positive")
    return ttls


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}
_UNITS["gb"] = _UNITS["g"]


def _size(text: str, what: str) -> int:
    """`64MB`, `512k`, `1000000`: bytes (units are powers of 1024)."""
    match = _SIZE.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise SystemExit(f"rugzak: {what} wants a size like 64MB, 512KB or 1000000, got {text!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _positive_int(text: str, what: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise SystemExit(f"rugzak: {what} wants a positive whole number, got {text!r}")
    return int(text)


def _flag(value: bool, env: str) -> bool:
    return value or os.environ.get(env, "").strip().lower() in ("1", "true", "yes", "on")


def _invalidation_secrets(path: str | None) -> tuple[bytes, ...]:
    """The master secrets subgraphs' invalidation keys derive from: --invalidation-secret-file,
    else RUGZAK_INVALIDATION_SECRET or RUGZAK_INVALIDATION_SECRET_FILE; () when none is set."""
    from auth.gateway_signature import parse_secrets
    from auth.invalidation_keys import masters_from_env

    try:
        return parse_secrets(Path(path).read_text("utf-8")) if path else masters_from_env()
    except (OSError, ValueError) as exc:
        raise SystemExit(f"rugzak: invalidation secret: {exc}") from None


def _propagated(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`--propagate-header ticketing=x-request-id,traceparent` (repeatable)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in _key_values(items, "--propagate-header").items():
        out[name] = (*out.get(name, ()), *value.split(","))
    return out


def gateway_key_dir(given: str | None) -> Path:
    """--gateway-key-dir, else RUGZAK_GATEWAY_KEY_DIR, else gateway-keys in the data directory."""
    from gateway.registry.store import data_dir

    configured = given or os.environ.get("RUGZAK_GATEWAY_KEY_DIR", "").strip()
    return Path(configured) if configured else data_dir() / "gateway-keys"


def gateway_config(args: argparse.Namespace) -> GatewayConfig:
    """The gateway's settings from serve's options (and the environment and config file behind
    them), checked: a bad one is SystemExit with a message naming the flag."""
    from gateway.config import GatewayConfig

    env_options.export(args)
    default_timeout, timeouts = _timeouts(args.subgraph_timeout)
    env = os.environ
    allow_list = args.persisted_allow_list or env.get("RUGZAK_PERSISTED_ALLOW_LIST") or None
    unlisted = args.unlisted_clients or env.get("RUGZAK_UNLISTED_CLIENTS") or "refuse"
    if unlisted not in ("refuse", "allow"):
        raise SystemExit(f"rugzak: --unlisted-clients is refuse or allow, got {unlisted!r}")
    entries = args.plan_cache_entries or env.get("RUGZAK_PLAN_CACHE_ENTRIES") or "1000"
    size = args.plan_cache_size or env.get("RUGZAK_PLAN_CACHE_SIZE") or "64MB"
    config = GatewayConfig(
        supergraph=args.supergraph,
        subgraph_urls=_key_values(args.subgraph_url, "--subgraph-url"),
        subgraph_timeout=default_timeout,
        subgraph_timeouts=timeouts,
        subgraph_policies=_subgraph_policies(args),
        request_timeout=_seconds(
            args.request_timeout, "RUGZAK_REQUEST_TIMEOUT", 30.0, "--request-timeout", False
        ),
        probe_interval=_seconds(
            args.probe_interval, "RUGZAK_PROBE_INTERVAL", 1.0, "--probe-interval", True
        ),
        dev_issuer_dir=Path(args.dev_issuer_dir) if args.dev_issuer_dir else None,
        expose_query_plan=args.expose_query_plan,
        override_labels=frozenset(args.override_label),
        reject_unauthorized=args.reject_unauthorized,
        policy_modules=tuple(args.policy_module),
        cache_url=args.cache or os.environ.get("RUGZAK_CACHE_URL") or None,
        entity_ttls=_entity_ttls(args.entity_ttl),
        gateway_key_dir=gateway_key_dir(args.gateway_key_dir),
        gateway_issuer=args.gateway_issuer
        or env.get("RUGZAK_GATEWAY_ISSUER", "").strip()
        or "rugzak-gateway",
        subgraph_token_ttl=args.subgraph_token_ttl,
        propagate_headers=_propagated(args.propagate_header),
        invalidation_secrets=_invalidation_secrets(args.invalidation_secret_file),
        expose_cache_status=_flag(args.expose_cache_status, "RUGZAK_EXPOSE_CACHE_STATUS"),
        plan_cache_entries=_positive_int(entries, "--plan-cache-entries"),
        plan_cache_bytes=_size(size, "--plan-cache-size"),
        persisted_allow_list=Path(allow_list) if allow_list else None,
        allow_unlisted_clients=unlisted == "allow",
        reload_interval=_reload_interval(args.reload_interval, args.supergraph),
        warm_operations=max(0, args.warm_operations),
        warm_seconds=max(0.0, args.warm_seconds),
        registry_url=args.registry or env.get("RUGZAK_REGISTRY") or None,
        registry_poll_interval=args.registry_poll_interval,
        **_limit_config(args, env),
        registry_allowed_urls=tuple(args.registry_allow_url),
        registry_limits=_registry_limits(args),
        access_log=_access_log(args),
    )
    edge.configure(args, config)
    observe_options.configure(args, config)
    if env.get("RUGZAK_SUBGRAPH_SECRET") or env.get("RUGZAK_SUBGRAPH_SECRET_FILE"):
        print(
            "rugzak: RUGZAK_SUBGRAPH_SECRET is no longer used: the gateway sends each subgraph a "
            "token of its own (see README, 'Only the gateway may call the subgraphs')",
            file=sys.stderr,
        )
    if not 2 <= config.subgraph_token_ttl <= 300:
        raise SystemExit("rugzak: --subgraph-token-ttl must be 2 to 300 seconds")
    if config.registry_url:  # the registry, not the file, says what to serve once it has a say
        config.reload_interval = 0.0
    if config.registry_poll_interval <= 0:
        raise SystemExit("rugzak: --registry-poll-interval must be positive")
    return config


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
        workers=args.workers or _positive_int(env.get("RUGZAK_WORKERS") or "1", "RUGZAK_WORKERS"),
        limits=edge.connection_limits(args),
        admin=edge.admin_address(args),
    )
    return 0


def _add_limit_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--operation-limits",
        metavar="JSON|@FILE",
        help='operation limits, e.g. {"max_depth": 12, "clients": {"staff-app": {"max_cost": '
        "20000}}} (README: Operation limits; env RUGZAK_OPERATION_LIMITS)",
    )
    serve.add_argument(
        "--expose-cost",
        action="store_true",
        help="answer every request's estimated cost in extensions.cost (env RUGZAK_EXPOSE_COST)",
    )
    serve.add_argument(
        "--persisted-queries",
        metavar="entries=N,size=SIZE,ttl=SECONDS,client-entries=N,client-size=SIZE",
        help="bounds of the persisted query store, in total and per client application "
        "(defaults 10000, 32MB, 86400, 2000, 8MB; env RUGZAK_PERSISTED_QUERIES)",
    )
    serve.add_argument(
        "--cache-size",
        metavar="SIZE",
        help="bytes the in-memory entity cache may hold (default 64MB; env RUGZAK_CACHE_SIZE)",
    )


def _limit_config(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """The GatewayConfig fields of the operation limits and the bounds of stores."""
    from gateway.limits import LimitSettings
    from gateway.persisted_queries import PersistedLimits

    limits = args.operation_limits or env.get("RUGZAK_OPERATION_LIMITS")
    try:
        settings = LimitSettings.parse(limits) if limits else LimitSettings()
    except ValueError as exc:
        raise SystemExit(f"rugzak: {exc}") from None
    persisted: dict[str, Any] = {}
    names = {"entries": "max_entries", "size": "max_bytes", "ttl": "ttl"}
    names |= {"client-entries": "client_entries", "client-size": "client_bytes"}
    text = args.persisted_queries or env.get("RUGZAK_PERSISTED_QUERIES") or ""
    for name, value in _key_values(
        [p for p in text.split(",") if p], "--persisted-queries"
    ).items():
        if name not in names:
            raise SystemExit(f"rugzak: --persisted-queries knows {', '.join(names)}, not {name!r}")
        if name.endswith("size"):
            persisted[names[name]] = _size(value, f"--persisted-queries {name}")
        else:
            persisted[names[name]] = _positive_int(value, f"--persisted-queries {name}")
    size = args.cache_size or env.get("RUGZAK_CACHE_SIZE") or "64MB"
    return {
        "operation_limits": settings,
        "expose_cost": args.expose_cost
        or env.get("RUGZAK_EXPOSE_COST", "").strip().lower() in ("1", "true", "yes", "on"),
        "persisted_limits": PersistedLimits(**persisted),
        "memory_cache_bytes": _size(size, "--cache-size"),
    }


def _registry_limits(args: argparse.Namespace) -> RegistryLimits:
    from gateway.registry.limits import RegistryLimits
    from gateway.registry.url_policy import parse_patterns

    try:
        parse_patterns(args.registry_allow_url)
    except ValueError as exc:
        raise SystemExit(f"rugzak: --registry-allow-url: {exc}") from None
    if args.registry_fetch_timeout <= 0:
        raise SystemExit("rugzak: --registry-fetch-timeout must be positive")
    return RegistryLimits(
        fetch_seconds=args.registry_fetch_timeout,
        max_sdl_bytes=_size(args.registry_max_sdl_size, "--registry-max-sdl-size"),
        compose_cpu_seconds=_positive_int(args.registry_compose_cpu, "--registry-compose-cpu"),
        compose_memory_bytes=_size(args.registry_compose_memory, "--registry-compose-memory"),
    )


def _access_log(args: argparse.Namespace) -> AccessLogSettings | None:
    """On by default, in $RUGZAK_DATA_DIR/audit.sqlite3; `--access-log off` switches it off."""
    from gateway.audit.settings import FAIL_CLOSED, TEN_YEARS_DAYS, AccessLogSettings

    env = os.environ
    store = (args.access_log or env.get("RUGZAK_ACCESS_LOG") or "sqlite").strip()
    if store == "off":
        return None
    if not store.startswith(("sqlite", "postgresql://", "postgres://")):
        raise SystemExit("rugzak: --access-log wants off, sqlite, sqlite:PATH or postgresql://...")
    fail_closed = args.access_log_fail_closed or env.get("RUGZAK_ACCESS_LOG_FAIL_CLOSED") or "staff"
    if fail_closed not in FAIL_CLOSED:
        raise SystemExit(f"rugzak: --access-log-fail-closed is one of {', '.join(FAIL_CLOSED)}")
    days = args.access_log_retention_days or env.get("RUGZAK_ACCESS_LOG_RETENTION_DAYS")
    try:
        retention = float(days) if days is not None else float(TEN_YEARS_DAYS)
    except ValueError:
        raise SystemExit("rugzak: --access-log-retention-days wants a number of days") from None
    if retention < 0:
        raise SystemExit("rugzak: --access-log-retention-days must be 0 (for ever) or more")
    spool = args.access_log_spool or env.get("RUGZAK_ACCESS_LOG_SPOOL") or None
    return AccessLogSettings(
        store=store,
        spool_dir=Path(spool) if spool else None,
        fail_closed=fail_closed,
        retention_days=retention,
    )


def _reload_interval(given: float | None, source: str) -> float:
    if given is None:
        from gateway.schema.supergraph import is_url_source

        return 10.0 if is_url_source(source) else 1.0
    if given < 0:
        raise SystemExit("rugzak: --reload-interval must be 0 (never) or a positive number")
    return given


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
    serve_options(serve)
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
    serve_options(serve)
    serve.set_defaults(func=_serve)
    _other_commands(sub)
    return parser


def serve_options(serve: argparse.ArgumentParser) -> None:
    """serve's options (the demo takes them too): each is also a key of the config file."""
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="read the settings of these options from a TOML file: each key a flag without "
        "its dashes; flags and environment variables win (env RUGZAK_CONFIG)",
    )
    serve.add_argument("--supergraph", required=True, help="supergraph SDL: file path or URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4000)
    serve.add_argument("--fd", type=int, help="serve on an already-listening socket")
    serve.add_argument(
        "--workers",
        type=lambda text: _positive_int(text, "--workers"),
        metavar="N",
        help="processes serving the same socket, e.g. one per core (default 1, RUGZAK_WORKERS); "
        "each keeps its own in-memory caches and /metrics",
    )
    serve.add_argument(
        "--subgraph-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="override a subgraph's routing URL (repeatable)",
    )
    serve.add_argument(
        "--subgraph-timeout",
        action="append",
        default=[],
        metavar="[NAME=]SECONDS",
        help="timeout of each subgraph call: a default, or for one subgraph (repeatable)",
    )
    resilience = serve.add_argument_group(
        "when subgraphs fail",
        "each flag takes a default for every subgraph, or NAME=VALUE for one (repeatable; env "
        "RUGZAK_<FLAG NAME>, e.g. RUGZAK_BREAKER_SLOW='2 ticketing=5')",
    )
    helps = {
        "--subgraph-max-in-flight": "requests in flight to a subgraph at most (default 100)",
        "--subgraph-queue": "requests waiting for a place under that cap; more fail at once "
        "with SUBREQUEST_OVERLOADED (default 400)",
        "--subgraph-retries": "retries of a failed query (connection failed or dropped, 502, "
        "503, 504), never of a mutation (default 1; 0: none)",
        "--subgraph-retry-budget": "retries at most this percentage of a subgraph's requests "
        "over 10 s, plus 3 (default 10)",
        "--breaker-failures": "consecutive failed or slow calls that open a subgraph's circuit "
        "breaker (default 5; 0: off)",
        "--breaker-error-rate": "or this percentage of failed or slow calls over 10 s, once "
        "there were 20 (default 50; 0: off)",
        "--breaker-slow": "a call this slow counts as failed, as soon as it has waited that long "
        "(default 2; 0: latency never counts)",
        "--breaker-open": "seconds a breaker stays open before a trial call (default 5)",
    }
    for flag, (name, unit, _, _) in _POLICY_FLAGS.items():
        resilience.add_argument(
            flag,
            dest=name,
            action="append",
            default=[],
            metavar=f"[NAME=]{unit}",
            help=f"{helps[flag]}; env {_env_name(flag)}",
        )
    resilience.add_argument(
        "--request-timeout",
        type=float,
        metavar="SECONDS",
        help="a request's deadline: each subgraph fetch gets at most what is left (default 30; "
        "env RUGZAK_REQUEST_TIMEOUT)",
    )
    resilience.add_argument(
        "--probe-interval",
        type=float,
        metavar="SECONDS",
        help="check each subgraph, the cache and the registry this often for /ready (default 1; "
        "0: no active checks; env RUGZAK_PROBE_INTERVAL)",
    )
    serve.add_argument(
        "--gateway-key-dir",
        metavar="DIR",
        help="the keys the gateway signs its subgraph tokens with (made when missing; env "
        "RUGZAK_GATEWAY_KEY_DIR, default $RUGZAK_DATA_DIR/gateway-keys)",
    )
    serve.add_argument(
        "--gateway-issuer",
        metavar="ID",
        help="the iss of the gateway's subgraph tokens (env RUGZAK_GATEWAY_ISSUER, default "
        "rugzak-gateway)",
    )
    serve.add_argument(
        "--subgraph-token-ttl",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a subgraph token lives (2 to 300, default 30)",
    )
    serve.add_argument(
        "--propagate-header",
        action="append",
        default=[],
        metavar="NAME=HEADER[,HEADER]",
        help="pass these client request headers on to subgraph NAME (repeatable; default none)",
    )
    serve.add_argument(
        "--invalidation-secret-file",
        metavar="PATH",
        help="the master secret(s) of the subgraphs' invalidation keys (else env "
        "RUGZAK_INVALIDATION_SECRET or RUGZAK_INVALIDATION_SECRET_FILE)",
    )
    serve.add_argument(
        "--dev-issuer-dir", help="publish this development issuer's JWKS at /.well-known/jwks.json"
    )
    serve.add_argument(
        "--trusted-issuers",
        metavar="JSON|@FILE",
        help='accept tokens of these issuers: [{"issuer": ..., "audience": ..., "jwks_url": ...}] '
        "(replaces RUGZAK_TRUSTED_ISSUERS and RUGZAK_JWKS_URL)",
    )
    serve.add_argument(
        "--expose-query-plan",
        action="store_true",
        help="answer extensions.queryPlan to requests with the header x-rugzak-query-plan: true",
    )
    serve.add_argument(
        "--override-label",
        action="append",
        default=[],
        metavar="LABEL",
        help="switch on a progressive @override label (repeatable)",
    )
    serve.add_argument(
        "--reject-unauthorized",
        action="store_true",
        help="refuse a whole request that reads a field the caller may not read",
    )
    serve.add_argument(
        "--cache",
        metavar="URL",
        help="shared cache: memory (default) or redis://HOST:PORT/DB (env RUGZAK_CACHE_URL)",
    )
    serve.add_argument(
        "--entity-ttl",
        action="append",
        default=[],
        metavar="TYPE=SECONDS",
        help="cache entities of TYPE that long when their subgraph sends no Cache-Control",
    )
    serve.add_argument(
        "--expose-cache-status",
        action="store_true",
        help="say what came from the entity cache: header x-rugzak-cache and "
        "extensions.cacheStatus (env RUGZAK_EXPOSE_CACHE_STATUS=1)",
    )
    serve.add_argument(
        "--plan-cache-entries",
        metavar="N",
        help="entries in each of the caches of documents, operations and plans (default 1000, "
        "env RUGZAK_PLAN_CACHE_ENTRIES)",
    )
    serve.add_argument(
        "--plan-cache-size",
        metavar="SIZE",
        help="approximate bytes each of those caches may hold, e.g. 64MB (the default; env "
        "RUGZAK_PLAN_CACHE_SIZE)",
    )
    serve.add_argument(
        "--persisted-allow-list",
        metavar="PATH",
        help="only the operations each client application may run: a JSON file {client: "
        "[sha256, ...]} or a directory of client folders of .graphql files "
        "(env RUGZAK_PERSISTED_ALLOW_LIST)",
    )
    serve.add_argument(
        "--unlisted-clients",
        choices=("refuse", "allow"),
        help="with an allow-list: what clients without a list may run: nothing (refuse, the "
        "default) or anything (allow); env RUGZAK_UNLISTED_CLIENTS",
    )
    serve.add_argument(
        "--policy-module",
        action="append",
        default=[],
        metavar="MODULE",
        help="a Python module whose POLICIES dict adds named @policy checks (repeatable)",
    )
    serve.add_argument(
        "--reload-interval",
        type=float,
        metavar="SECONDS",
        help="check the supergraph file (default every 1 s) or URL (every 10 s) for a new "
        "version and serve it without a restart; 0 never reloads",
    )
    serve.add_argument(
        "--warm-operations",
        type=int,
        default=200,
        metavar="N",
        help="on a new supergraph, plan the N operations most recently answered with data, in "
        "the background (default 200)",
    )
    serve.add_argument(
        "--warm-seconds",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="stop that warm-up after this long (default 2)",
    )
    serve.add_argument(
        "--registry",
        metavar="sqlite[:PATH]|postgresql://...",
        help="run the subgraph registry (/registry, `rugzak registry`) in this store, and serve "
        "its supergraph; sqlite alone is $RUGZAK_DATA_DIR/registry.sqlite3 (env RUGZAK_REGISTRY)",
    )
    serve.add_argument(
        "--registry-poll-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often to look for a version another replica registered (default 1)",
    )
    _add_limit_options(serve)
    serve.add_argument(
        "--registry-allow-url",
        action="append",
        default=[],
        metavar="PATTERN",
        help="URLs every organisation may register, e.g. http://127.0.0.1:* to allow loopback "
        "subgraphs (repeatable; per organisation: `rugzak registry urls`)",
    )
    serve.add_argument(
        "--registry-fetch-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="deadline for reading a subgraph's SDL, all of it (default 10)",
    )
    serve.add_argument(
        "--registry-max-sdl-size",
        default="1000000",
        metavar="SIZE",
        help="largest SDL the registry reads or composes (default 1000000 bytes)",
    )
    serve.add_argument(
        "--registry-compose-cpu",
        default="60",
        metavar="SECONDS",
        help="CPU time of the worker process that composes a registry change (default 60)",
    )
    serve.add_argument(
        "--registry-compose-memory",
        default="1GB",
        metavar="SIZE",
        help="address space of that worker process (default 1GB)",
    )
    serve.add_argument(
        "--access-log",
        metavar="off|sqlite[:PATH]|postgresql://...",
        help="log every read of personal data: $RUGZAK_DATA_DIR/audit.sqlite3 by default, "
        "PostgreSQL for replicas (env RUGZAK_ACCESS_LOG)",
    )
    serve.add_argument(
        "--access-log-fail-closed",
        choices=("staff", "everyone", "nobody"),
        help="whose personal reads are refused while neither the store nor the spool can "
        "record them (default staff; env RUGZAK_ACCESS_LOG_FAIL_CLOSED)",
    )
    serve.add_argument(
        "--access-log-retention-days",
        metavar="DAYS",
        help="purge entries older than this (default 3653, ten years; 0 keeps them for ever; "
        "env RUGZAK_ACCESS_LOG_RETENTION_DAYS)",
    )
    serve.add_argument(
        "--access-log-spool",
        metavar="DIR",
        help="where entries wait while the store is down (default $RUGZAK_DATA_DIR/audit-spool; "
        "env RUGZAK_ACCESS_LOG_SPOOL)",
    )
    edge.add_arguments(serve)
    observe_options.add_arguments(serve)
    env_options.add_arguments(serve)
    serve.add_argument("--log-level", default="warning")


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
    serve_options(demo)
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
