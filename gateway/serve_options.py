"""The options of `rugzak serve` as argparse spells them: each flag with its metavar, default
and help, in the order `rugzak serve --help` lists them. The demo and `rugzak config check` take
the same options, and each is also a key of the config file (gateway/config_file.py), so they
are defined once, here; what their values mean is read in gateway/serve_config.py. The groups
whose definitions stand beside their readers (gateway/http/edge.py, gateway/observe_options.py,
gateway/env_options.py) are added here too. Nothing of the running gateway is imported:
`rugzak --help` builds this parser.
"""

from __future__ import annotations

import argparse

from gateway import env_options, observe_options
from gateway.http import edge
from gateway.serve_config import POLICY_FLAGS, env_name, positive_int


def add_arguments(serve: argparse.ArgumentParser) -> None:
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
        type=lambda text: positive_int(text, "--workers"),
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
    for flag, (name, unit, _, _) in POLICY_FLAGS.items():
        resilience.add_argument(
            flag,
            dest=name,
            action="append",
            default=[],
            metavar=f"[NAME=]{unit}",
            help=f"{helps[flag]}; env {env_name(flag)}",
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
