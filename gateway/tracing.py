"""OpenTelemetry traces: a server span per GraphQL request (continuing the caller's W3C
`traceparent`), a span per pipeline step, and a client span per subgraph request, whose
`traceparent` goes to the subgraph.

Off unless configured (`--otlp-endpoint`, or `configure` with an exporter of one's own): then
`tracer` is None, every call site costs one global read, and OpenTelemetry is not even imported
(it is the optional `tracing` extra). Span attributes hold names, hashes, codes and counts only:
never a token, an INSZ or a variable's value (operation names go through `telemetry.redact`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from gateway.telemetry import redact

# the SDK's Tracer while tracing is on; call sites test it before doing anything else
tracer: Any = None
_provider: Any = None
_propagator: Any = None
_api: Any = None  # opentelemetry.trace, once configured
# a subgraph URL's span attributes, parsed once
_url_attributes: dict[str, dict[str, str | int]] = {}
_NOOP: contextlib.nullcontext[None] = contextlib.nullcontext()

T = TypeVar("T")

SERVICE_NAME = "rugzak"
TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """An OTLP/HTTP collector's base URL (`http://collector:4318`) gets the traces path; a URL
    with a path is taken as the traces URL itself."""
    if urlsplit(endpoint).path.strip("/"):
        return endpoint
    return endpoint.rstrip("/") + TRACES_PATH


def configure(
    sample_ratio: float = 1.0,
    *,
    endpoint: str | None = None,
    exporter: Any = None,
    batch: bool = True,
) -> None:
    """Switch tracing on: spans of sampled traces go to `exporter` (an SDK SpanExporter), or
    over OTLP/HTTP to `endpoint`. A trace the caller sampled (or not) stays so; a new one is
    sampled with probability `sample_ratio`. `batch`: export from a background thread (else at
    each span's end, for tests)."""
    global tracer, _provider, _propagator, _api
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("tracing needs OpenTelemetry: pip install 'rugzak[tracing]'") from exc
    if not 0.0 <= sample_ratio <= 1.0:
        raise ValueError("the trace sample ratio is between 0 and 1")
    if exporter is None:
        if endpoint is None:
            raise ValueError("tracing needs an OTLP endpoint or an exporter")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(endpoint))
    shutdown()
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
        resource=Resource.create({"service.name": SERVICE_NAME}),
    )
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    _provider, _propagator, _api = provider, TraceContextTextMapPropagator(), trace
    tracer = provider.get_tracer("rugzak.gateway")


def shutdown() -> None:
    """Export what is pending and switch tracing off."""
    global tracer, _provider
    provider, tracer, _provider = _provider, None, None
    if provider is not None:
        provider.shutdown()


def server_span(method: str, path: str, headers: Mapping[str, str]) -> Any:
    """The request's span, child of the caller's `traceparent` when it sent a valid one."""
    if tracer is None:
        return _NOOP
    return _server_span(method, path, headers)


@contextlib.contextmanager
def _server_span(method: str, path: str, headers: Mapping[str, str]) -> Iterator[Any]:
    parent = _propagator.extract(headers)
    attributes = {"http.request.method": method, "url.path": path}
    with tracer.start_as_current_span(
        f"{method} {path}", context=parent, kind=_api.SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span


def step(name: str) -> Any:
    """A span for one pipeline step (parse_validate, normalize, authorize, plan, execute,
    shape), child of the current one."""
    if tracer is None:
        return _NOOP
    return tracer.start_as_current_span(f"rugzak.{name}")


def annotate(attributes: Mapping[str, str | int | bool]) -> None:
    """Attributes of the current span (names, hashes, codes, counts: nothing personal)."""
    if tracer is None:
        return
    _api.get_current_span().set_attributes(dict(attributes))


def operation_attributes(name: str | None, digest: str) -> dict[str, str]:
    attributes = {"graphql.document.sha256": digest}
    if name:
        attributes["graphql.operation.name"] = redact(name)
    return attributes


def trace_id() -> str | None:
    """The current trace's id (32 hex digits) when a sampled span is current: for the logs."""
    if tracer is None:
        return None
    context = _api.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid and context.trace_flags.sampled else None


async def fetch(
    service: str,
    url: str,
    headers: Mapping[str, str],
    send: Callable[[Mapping[str, str]], Awaitable[T]],
) -> T:
    """One subgraph request in a client span; its `traceparent` goes along in the headers.
    `send` gets the headers to send. A failure (any result with a `code`) marks the span."""
    attributes = _url_attributes.get(url)
    if attributes is None:
        parts = urlsplit(url)
        attributes = {
            "http.request.method": "POST",
            "server.address": parts.hostname or "",
            "url.path": parts.path or "/",
        }
        if parts.port is not None:
            attributes["server.port"] = parts.port
        if len(_url_attributes) < 10_000:  # subgraph URLs: a handful, unless a registry churns
            _url_attributes[url] = attributes
    with tracer.start_as_current_span(
        f"subgraph {service}",
        kind=_api.SpanKind.CLIENT,
        attributes={"rugzak.subgraph": service, **attributes},
    ) as span:
        sent = dict(headers)
        _propagator.inject(sent)
        result = await send(sent)
        code = getattr(result, "code", None)
        if isinstance(code, str):
            span.set_attribute("rugzak.failure", code)
            span.set_status(_api.Status(_api.StatusCode.ERROR, code))
        return result
