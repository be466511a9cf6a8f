"""serve's options for what the gateway tells its operators: the log format and tracing."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from gateway.log_format import FORMATS

if TYPE_CHECKING:
    from gateway.config import GatewayConfig


def add_arguments(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("logs and traces")
    group.add_argument(
        "--log-format",
        choices=FORMATS,
        help="text (for people; the default) or json: one object a line with a timestamp, and "
        "one line per request (env RUGZAK_LOG_FORMAT)",
    )
    group.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="send OpenTelemetry traces over OTLP/HTTP to this collector, e.g. "
        "http://collector:4318 (/v1/traces is added to a URL without a path); off by default "
        "(env RUGZAK_OTLP_ENDPOINT)",
    )
    group.add_argument(
        "--trace-sample-ratio",
        metavar="RATIO",
        type=float,
        help="the share of new traces recorded, 0 to 1 (default 1); a caller's traceparent "
        "decides for its own traces (env RUGZAK_TRACE_SAMPLE_RATIO)",
    )


def log_format(args: argparse.Namespace) -> str:
    chosen = getattr(args, "log_format", None) or os.environ.get("RUGZAK_LOG_FORMAT") or "text"
    chosen = chosen.strip().lower()
    if chosen not in FORMATS:
        raise SystemExit(f"rugzak: --log-format is text or json, got {chosen!r}")
    return chosen


def configure(args: argparse.Namespace, config: GatewayConfig) -> None:
    env = os.environ
    endpoint = args.otlp_endpoint or env.get("RUGZAK_OTLP_ENDPOINT", "").strip() or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise SystemExit(f"rugzak: --otlp-endpoint wants an http(s) URL, got {endpoint!r}")
    ratio = args.trace_sample_ratio
    if ratio is None:
        text = env.get("RUGZAK_TRACE_SAMPLE_RATIO", "").strip() or "1"
        try:
            ratio = float(text)
        except ValueError:
            message = "rugzak: RUGZAK_TRACE_SAMPLE_RATIO wants a number from 0 to 1"
            raise SystemExit(message) from None
    if not 0.0 <= ratio <= 1.0:
        raise SystemExit("rugzak: --trace-sample-ratio is between 0 and 1")
    if endpoint is not None:
        try:
            import opentelemetry.sdk.trace  # noqa: F401
        except ImportError:
            raise SystemExit(
                "rugzak: --otlp-endpoint needs OpenTelemetry: pip install 'rugzak[tracing]'"
            ) from None
    config.otlp_endpoint = endpoint
    config.trace_sample_ratio = ratio
