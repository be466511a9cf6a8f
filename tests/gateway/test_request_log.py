"""The request log's parts without a server: masking, the line formats, request ids, and
tracing's switched-off and URL helpers."""

from __future__ import annotations

import json
import logging
import re

import pytest

from gateway import request_log, tracing
from gateway.log_format import JsonFormatter, TextFormatter, formatter
from gateway.request_log import RequestRecord

ANN = "85671012385"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl"


def test_scrub_masks_the_requests_variable_values_insz_and_tokens() -> None:
    record = RequestRecord("r1")
    record.variables = {"filter": {"street": "Kerkstraat 12", "tags": ["urgent", 40312]}, "n": 7}
    text = f"no ticket on 'Kerkstraat 12' tagged urgent or 40312 for {ANN} with {JWT}; n=7"
    scrubbed = record.scrub(text)
    assert "Kerkstraat" not in scrubbed and "urgent" not in scrubbed and "40312" not in scrubbed
    assert ANN not in scrubbed and JWT not in scrubbed
    assert "n=7" in scrubbed  # too short to mask without masking half of every message


def test_a_plain_short_request_id_is_kept_and_any_other_replaced() -> None:
    assert request_log.request_id({"x-request-id": "abc-123.4"}) == "abc-123.4"
    for bad in ("", "a b", "x" * 65, 'a"b', "line\nbreak"):
        made = request_log.request_id({"x-request-id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", made), bad
    assert request_log.request_id({}) != request_log.request_id({})


def _record(message: str, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("rugzak.access", logging.INFO, __file__, 1, message, None, None)
    record.fields = fields
    return record


def test_json_lines_have_a_utc_timestamp_and_the_records_fields() -> None:
    line = JsonFormatter().format(_record("request r1", request_id="r1", status=200))
    entry = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert entry["level"] == "info" and entry["logger"] == "rugzak.access"
    assert entry["message"] == "request r1" and entry["request_id"] == "r1"
    assert entry["status"] == 200
    assert "\n" not in line


def test_text_lines_start_with_a_timestamp() -> None:
    line = TextFormatter().format(_record("hello"))
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO rugzak.access: hello$", line)


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json"):
        formatter("xml")


def test_switched_off_tracing_hands_out_one_no_op() -> None:
    tracing.shutdown()
    assert tracing.tracer is None
    assert tracing.step("plan") is tracing.step("shape")
    assert tracing.server_span("POST", "/graphql", {}) is tracing.step("plan")
    assert tracing.trace_id() is None


def test_the_otlp_traces_path_is_added_to_a_bare_collector_url() -> None:
    assert tracing.traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("https://x.example/otlp/v1/traces") == (
        "https://x.example/otlp/v1/traces"
    )
