"""OpenTelemetry traces end to end: the gateway (in this process, so that the SDK's in-memory
exporter sees its spans; over loopback like any other) and the reference subgraphs (real
servers), one of them behind a proxy that keeps the request heads the gateway sent it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from auth.dev_issuer import DevIssuer
from auth.verifier import verifier_from_env
from gateway import tracing
from gateway.cli import parse
from gateway.http.app import create_app
from gateway.serve_config import gateway_config
from tests.e2e.observed import RecordingProxy, ThreadServer, logged_stack, subgraphs_for
from tests.e2e.stack import ANN, PROFILE_QUERY, SUPERGRAPH
from tests.servers import listening_socket

STEPS = ("parse_validate", "normalize", "authorize", "plan", "execute", "shape")
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@dataclass
class Traced:
    url: str
    proxy: RecordingProxy  # in front of the education subgraph
    exporter: InMemorySpanExporter
    issuer: DevIssuer

    def token(self, insz: str) -> str:
        return self.issuer.mint(
            subject=f"test-{insz}", insz=insz, extra_claims={"acr": "substantial"}
        )


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Traced]:
    exporter = InMemorySpanExporter()
    gateway_socket = listening_socket()
    try:
        with subgraphs_for(tmp_path, gateway_socket) as (auth, servers):
            for key, value in auth["env"].items():
                monkeypatch.setenv(key, value)
            proxy = RecordingProxy(int(servers["education"].url.rsplit(":", 1)[1]))
            argv = ["serve", "--supergraph", str(SUPERGRAPH)]
            for name, server in servers.items():
                url = proxy.url if name == "education" else server.url
                argv += ["--subgraph-url", f"{name}={url}/graphql"]
            app = create_app(gateway_config(parse(argv, os.environ)), verifier_from_env())
            runner = ThreadServer(app, gateway_socket, [proxy])
            tracing.configure(1.0, exporter=exporter, batch=False)
            try:
                runner.start()
                url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}/graphql"
                yield Traced(url, proxy, exporter, auth["issuer"])
            finally:
                tracing.shutdown()
                runner.stop()
    finally:
        gateway_socket.close()


def _post(traced: Traced, body: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.post(traced.url, json=body, headers=headers, timeout=30.0)


def _trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.trace_id:032x}"


def test_one_trace_covers_the_steps_and_the_subgraph_fetches(traced: Traced) -> None:
    token = traced.token(ANN)
    caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    response = _post(
        traced,
        {"query": PROFILE_QUERY, "operationName": "Profile"},
        authorization=f"Bearer {token}",
        traceparent=caller,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] is not None
    spans = traced.exporter.get_finished_spans()
    assert {_trace_id(s) for s in spans} == {CALLER_TRACE}  # one trace: the caller's
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    (server,) = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.parent is not None and f"{server.parent.span_id:016x}" == CALLER_SPAN
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["graphql.operation.name"] == "Profile"
    assert len(str(server.attributes["graphql.document.sha256"])) == 64

    def ancestors(span: ReadableSpan) -> list[str]:
        names = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    names = [s.name for s in spans]
    for step in STEPS:
        (found,) = [s for s in spans if s.name == f"rugzak.{step}"]
        assert ancestors(found)[-1] == server.name, step
    clients = [s for s in spans if s.kind == SpanKind.CLIENT]
    fetched = {s.attributes["rugzak.subgraph"] for s in clients if s.attributes}
    assert {"education", "allowances", "ticketing"} <= fetched, names
    for client in clients:
        assert "rugzak.execute" in ancestors(client)
    # what the education subgraph received: the trace's id, and its client span as parent
    sent = traced.proxy.header_values("traceparent")
    assert sent, "the education subgraph received no traceparent"
    education_spans = {
        f"{s.context.span_id:016x}"
        for s in clients
        if s.attributes and s.attributes["rugzak.subgraph"] == "education" and s.context
    }
    for value in sent:
        version, trace_id, parent_id, flags = value.split("-")
        assert (version, trace_id, flags) == ("00", CALLER_TRACE, "01")
        assert parent_id in education_spans
    # nothing personal in any span: no INSZ, no token
    for span in spans:
        for value in (span.attributes or {}).values():
            assert ANN not in str(value) and token not in str(value)


def test_a_request_without_traceparent_starts_a_trace_of_its_own(traced: Traced) -> None:
    query = "query Mine($insz: ID!) { citizen(insz: $insz) { qualifications { totalCount } } }"
    response = _post(
        traced,
        {"query": query, "variables": {"insz": ANN}},
        authorization=f"Bearer {traced.token(ANN)}",
    )
    assert response.status_code == 200, response.text
    spans = traced.exporter.get_finished_spans()
    names = [s.name for s in spans]
    (server,) = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.parent is None
    assert len({_trace_id(s) for s in spans}) == 1
    sent = traced.proxy.header_values("traceparent")
    assert sent and all(v.split("-")[1] == _trace_id(server) for v in sent), names
    for span in spans:  # a variable's value never lands in a span
        for value in (span.attributes or {}).values():
            assert ANN not in str(value)


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps the spans it is sent (protobuf)."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(ExportTraceServiceResponse().SerializeToString())

    def log_message(self, *args: object) -> None:
        pass


def test_otlp_endpoint_sends_the_spans_over_otlp_http(tmp_path: Path) -> None:
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    collector.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    try:
        output = tmp_path / "gateway.log"
        with logged_stack(tmp_path, output, "--otlp-endpoint", endpoint) as stack:
            caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
            headers = {"authorization": f"Bearer {stack.token(ANN)}", "traceparent": caller}
            assert stack.query(PROFILE_QUERY, headers=headers).status_code == 200
        # the gateway flushed its spans when it stopped
    finally:
        collector.shutdown()
        collector.server_close()
    received = collector.received  # type: ignore[attr-defined]
    assert received and all(path == "/v1/traces" for path, _ in received)
    names, trace_ids = set(), set()
    for _, body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "rugzak"
            for scope in resource.scope_spans:
                for span in scope.spans:
                    names.add(span.name)
                    trace_ids.add(span.trace_id.hex())
    assert {f"rugzak.{step}" for step in STEPS} <= names
    assert {"subgraph education", "subgraph allowances", "subgraph ticketing"} <= names
    assert trace_ids == {CALLER_TRACE}
