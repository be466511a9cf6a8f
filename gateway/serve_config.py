"""`rugzak serve`'s parsed options turned into a checked GatewayConfig: each value read with the
environment variable and the default behind it, and refused with a SystemExit that names the
flag when it is malformed or out of range. `rugzak serve`, the demo and `rugzak config check`
build their configuration here, and `rugzak gateway-keys` finds its key directory here, so a
setting means the same to each. The flags themselves are spelled in gateway/serve_options.py,
but for the table of the resilience flags (POLICY_FLAGS): it pairs each flag with the policy
field it sets, and both modules read it. What a reader needs of the gateway is imported inside
it: every `rugzak` command imports this module, and `rugzak --help` must stay quick.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import env_options, observe_options
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
POLICY_FLAGS: dict[str, tuple[str, str, Callable[[str], float], float]] = {
    "--subgraph-max-in-flight": ("max_in_flight", "N", int, 1),
    "--subgraph-queue": ("max_queued", "N", int, 0),
    "--subgraph-retries": ("retries", "N", int, 0),
    "--subgraph-retry-budget": ("retry_budget", "PERCENT", lambda v: float(v) / 100, 0),
    "--breaker-failures": ("breaker_failures", "N", int, 0),
    "--breaker-error-rate": ("breaker_error_rate", "PERCENT", lambda v: float(v) / 100, 0),
    "--breaker-slow": ("breaker_slow", "SECONDS", float, 0),
    "--breaker-open": ("breaker_open", "SECONDS", float, 0.001),
}


def env_name(flag: str) -> str:
    return "RUGZAK_" + flag.lstrip("-").upper().replace("-", "_")


def _subgraph_policies(args: argparse.Namespace) -> SubgraphPolicies:
    """Each resilience flag (or its env variable, items separated by spaces or commas): a
    default (`--breaker-slow 2`) or one subgraph's value (`--breaker-slow ticketing=5`)."""
    from gateway.execution.resilience import SubgraphPolicies

    defaults: dict[str, Any] = {}
    per_subgraph: dict[str, dict[str, Any]] = {}
    for flag, (name, unit, parse, least) in POLICY_FLAGS.items():
        env = os.environ.get(env_name(flag), "")
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


def positive_int(text: str, what: str) -> int:
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
        plan_cache_entries=positive_int(entries, "--plan-cache-entries"),
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
            persisted[names[name]] = positive_int(value, f"--persisted-queries {name}")
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
        compose_cpu_seconds=positive_int(args.registry_compose_cpu, "--registry-compose-cpu"),
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
