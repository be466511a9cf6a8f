"""`rugzak serve`'s settings of the gateway's edge: rate limits, the caller's address behind
proxies, introspection, the admin listener, CORS, and the limits of each HTTP connection."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when serving, not for every `rugzak` command
    from gateway.config import GatewayConfig
    from gateway.http.protocol import ConnectionLimits


def add_arguments(serve: argparse.ArgumentParser) -> None:
    edge = serve.add_argument_group("callers and connections")
    edge.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="WHO=RATE",
        help="a token bucket per principal=, client= (application) or ip= (anonymous "
        "callers), or for one application principal.APP= / client.APP=; RATE is N/s, N/min "
        "or N/h with an optional :BURST, or off (repeatable; env RUGZAK_RATE_LIMITS; none by "
        "default). The operator's endpoints: registry= (every registry call, per organisation; "
        "default 10/s:100), registry-compose= (check, add, remove, rollback; default "
        "12/min:24), invalidate= (POST /cache/invalidate, per caller; default 50/s:500)",
    )
    edge.add_argument(
        "--rate-limit-store",
        metavar="URL",
        help="memory, or redis://HOST:PORT/DB shared by replicas (default: the --cache Redis, "
        "else memory; env RUGZAK_RATE_LIMIT_STORE)",
    )
    edge.add_argument(
        "--priority",
        metavar="off|SETTINGS",
        help="anonymous requests taking turns and giving way to callers with a token: off, or "
        "concurrency=N,per-address=N,queue=N,queue-per-address=N,yield=SECONDS (default "
        "concurrency=2,per-address=1,queue=256,queue-per-address=128,yield=0.25; a full line, "
        "or an address's full share of it, is answered 503 GATEWAY_BUSY; env RUGZAK_PRIORITY)",
    )
    edge.add_argument(
        "--gc",
        metavar="auto|SETTINGS",
        help="when the cyclic garbage collector runs: auto (Python's own thresholds), or "
        "interval=SECONDS,full=SECONDS: what is not frozen every interval, the whole heap "
        "every full seconds, each at a moment without requests in flight (default "
        "interval=1,full=600; env RUGZAK_GC)",
    )
    edge.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="CIDR",
        help="a reverse proxy whose X-Forwarded-For names anonymous callers (repeatable; env "
        "RUGZAK_TRUSTED_PROXIES); by default the socket's peer is the caller",
    )
    edge.add_argument(
        "--introspection",
        choices=("all", "authenticated", "none"),
        help="who may query __schema and __type (default authenticated; env RUGZAK_INTROSPECTION)",
    )
    edge.add_argument(
        "--admin-port",
        type=int,
        metavar="PORT",
        help="a second listener with /metrics, /health, /ready and GET /registry, open without a "
        "token (elsewhere they need the metrics:read or registry:read scope)",
    )
    edge.add_argument("--admin-host", default="127.0.0.1", help="of the admin listener")
    edge.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call the gateway, e.g. https://app.example "
        "(repeatable; default none: no cross-origin access)",
    )
    edge.add_argument(
        "--cors-method", action="append", default=[], help="allowed (default GET, POST)"
    )
    edge.add_argument(
        "--cors-header",
        action="append",
        default=[],
        help="allowed request header (default authorization, content-type, x-rugzak-purpose, "
        "apollographql-client-name/-version)",
    )
    edge.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time for a request's headers to arrive (default 10)",
    )
    edge.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time for a request's body to arrive once its headers are in (default 30)",
    )
    edge.add_argument(
        "--keep-alive-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="an idle keep-alive connection is closed after this (default 5)",
    )
    edge.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        metavar="N",
        help="open connections per process; more are answered 503 (default 1000)",
    )
    edge.add_argument(
        "--max-requests-per-connection",
        type=int,
        default=1000,
        metavar="N",
        help="requests on one keep-alive connection (default 1000)",
    )
    edge.add_argument(
        "--shutdown-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="on SIGTERM, time for requests in flight to finish (default 20)",
    )


def _seconds(value: float, what: str) -> float:
    if value <= 0:
        raise SystemExit(f"rugzak: {what} must be positive")
    return value


def _positive(value: int, what: str) -> int:
    if value < 1:
        raise SystemExit(f"rugzak: {what} wants a positive whole number, got {value}")
    return value


def configure(args: argparse.Namespace, config: GatewayConfig) -> None:
    """The settings of the gateway's edge: rate limits, caller addresses, introspection, the
    admin listener, CORS."""
    from gateway.collector import CollectorSettings
    from gateway.http.client_ip import parse_networks
    from gateway.limits.priority import PrioritySettings
    from gateway.rate_limit import parse_rate_limits

    env = os.environ
    rates = args.rate_limit or env.get("RUGZAK_RATE_LIMITS", "").split()
    proxies = args.trusted_proxy or env.get("RUGZAK_TRUSTED_PROXIES", "").split()
    try:
        limits = parse_rate_limits(rates)
    except ValueError as exc:
        raise SystemExit(f"rugzak: --rate-limit: {exc}") from None
    try:
        parse_networks(proxies)
    except ValueError as exc:
        raise SystemExit(f"rugzak: --trusted-proxy: {exc}") from None
    try:
        config.priority = PrioritySettings.parse(
            args.priority or env.get("RUGZAK_PRIORITY") or str(PrioritySettings())
        )
    except ValueError as exc:
        raise SystemExit(f"rugzak: --priority: {exc}") from None
    try:
        config.collector = CollectorSettings.parse(
            args.gc or env.get("RUGZAK_GC") or str(CollectorSettings())
        )
    except ValueError as exc:
        raise SystemExit(f"rugzak: --gc: {exc}") from None
    introspection = args.introspection or env.get("RUGZAK_INTROSPECTION") or "authenticated"
    if introspection not in ("all", "authenticated", "none"):
        raise SystemExit(f"rugzak: --introspection is all, authenticated or none: {introspection}")
    if args.admin_port is not None and args.admin_port == args.port and args.fd is None:
        raise SystemExit("rugzak: --admin-port must differ from --port")
    config.rate_limits = limits
    config.rate_limit_store = args.rate_limit_store or env.get("RUGZAK_RATE_LIMIT_STORE") or None
    config.trusted_proxies = tuple(proxies)
    config.introspection = introspection
    config.admin_port = args.admin_port
    config.cors_origins = tuple(args.cors_origin)
    if args.cors_method:
        config.cors_methods = tuple(m.upper() for m in args.cors_method)
    if args.cors_header:
        config.cors_headers = tuple(h.lower() for h in args.cors_header)


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    from gateway.http.protocol import ConnectionLimits

    return ConnectionLimits(
        header_timeout=_seconds(args.header_timeout, "--header-timeout"),
        body_timeout=_seconds(args.body_timeout, "--body-timeout"),
        keep_alive_timeout=_seconds(args.keep_alive_timeout, "--keep-alive-timeout"),
        max_connections=_positive(args.max_connections, "--max-connections"),
        max_requests_per_connection=_positive(
            args.max_requests_per_connection, "--max-requests-per-connection"
        ),
        shutdown_timeout=_seconds(args.shutdown_timeout, "--shutdown-timeout"),
    )


def admin_address(args: argparse.Namespace) -> tuple[str, int] | None:
    return None if args.admin_port is None else (args.admin_host, args.admin_port)
