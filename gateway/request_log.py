"""One log line per GraphQL request (logger `rugzak.access`, at INFO): its id, operation name
and hash, HTTP status, duration and requests per subgraph; and each subgraph error, logged with
its subgraph's name (logger `rugzak.subgraph`, at WARNING).

What a request is doing lives in a context variable, so the executor's tasks reach it without
being handed it. Nothing here holds a token or a variable's value in what it logs: subgraph
error messages lose any of the request's variable values they quote, and then go through
`telemetry.redact` (INSZs, tokens) like every log record.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode

from gateway import tracing
from gateway.telemetry import redact

access_log = logging.getLogger("rugzak.access")
subgraph_log = logging.getLogger("rugzak.subgraph")

REQUEST_ID_HEADER = "x-request-id"
# a caller's request id is kept when it is short and plain (it lands in logs and headers)
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
VARIABLE_MASK = "<variable>"
# the status logged for a request whose client went away before the answer (as nginx does)
ABANDONED = 499
# shorter values are not masked in messages: "1" or "no" would mask half the text
_MIN_MASKED = 3


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    operation_name: str | None = None
    query: str | None = None
    variables: Mapping[str, Any] | None = None
    fetches: dict[str, int] = field(default_factory=dict)
    subgraph_errors: dict[str, int] = field(default_factory=dict)

    def scrub(self, text: str) -> str:
        """`text` without the request's variable values it quotes, nor INSZs and tokens."""
        for value in sorted(_leaves(self.variables), key=len, reverse=True):
            text = text.replace(value, VARIABLE_MASK)
        return redact(text)

    def fields(self, status: int) -> dict[str, Any]:
        """What the request's log line says."""
        out: dict[str, Any] = {"request_id": self.request_id}
        if self.operation_name:
            out["operation_name"] = self.scrub(self.operation_name)
        if self.query is not None:
            out["operation_hash"] = hashlib.sha256(self.query.encode()).hexdigest()
        out["status"] = status
        out["duration_ms"] = round((time.perf_counter() - self.started) * 1000, 3)
        out["fetches"] = dict(self.fetches)
        if self.subgraph_errors:
            out["subgraph_errors"] = dict(self.subgraph_errors)
        trace_id = tracing.trace_id()
        if trace_id is not None:
            out["trace_id"] = trace_id
        return out


_current: ContextVar[RequestRecord | None] = ContextVar("rugzak_request", default=None)


def request_id(headers: Mapping[str, str]) -> str:
    sent = headers.get(REQUEST_ID_HEADER)
    if sent and _GOOD_ID.match(sent):
        return sent
    return uuid.uuid4().hex


def begin(headers: Mapping[str, str]) -> tuple[RequestRecord, Any]:
    """A record for the request starting now, and the token that `end` takes."""
    record = RequestRecord(request_id(headers))
    return record, _current.set(record)


def end(record: RequestRecord, token: Any, status: int) -> None:
    """Log the request's line (when rugzak.access logs INFO) and forget the record."""
    _current.reset(token)
    if access_log.isEnabledFor(logging.INFO):
        fields = record.fields(status)
        access_log.info(_text(fields), extra={"fields": fields})


def current() -> RequestRecord | None:
    return _current.get()


def identify(operation_name: str | None, query: str, variables: Mapping[str, Any]) -> None:
    """What the current request asks, once it is known (after persisted-query lookup)."""
    record = _current.get()
    if record is not None:
        record.operation_name, record.query, record.variables = operation_name, query, variables


def named(definition: OperationDefinitionNode) -> None:
    """The operation's own name, for a request that sent none (a document of one operation)."""
    record = _current.get()
    if record is not None and record.operation_name is None and definition.name is not None:
        record.operation_name = definition.name.value


def fetched(service: str) -> None:
    """The current request sends (or shares) one request to subgraph `service`."""
    record = _current.get()
    if record is not None:
        record.fetches[service] = record.fetches.get(service, 0) + 1


def subgraph_error(service: str, code: str | None, message: str, *, log_line: bool = True) -> None:
    """A subgraph answered an error, or no usable answer: counted for the request's line, and
    logged with the subgraph's name (unless `log_line` is false: told elsewhere)."""
    record = _current.get()
    if record is not None:
        record.subgraph_errors[service] = record.subgraph_errors.get(service, 0) + 1
        message = record.scrub(message)
    else:
        message = redact(message)
    if log_line and subgraph_log.isEnabledFor(logging.WARNING):
        fields: dict[str, Any] = {"subgraph": service, "code": code, "error": message}
        if record is not None:
            fields["request_id"] = record.request_id
        subgraph_log.warning(
            "subgraph %s: %s (%s)", service, message, code or "no code", extra={"fields": fields}
        )


def _text(fields: Mapping[str, Any]) -> str:
    fetches = ",".join(f"{k}:{v}" for k, v in sorted(fields["fetches"].items())) or "-"
    return (
        f"request {fields['request_id']} {fields.get('operation_name') or '-'} "
        f"{fields['status']} {fields['duration_ms']}ms fetches={fetches}"
    )


def _leaves(value: Any) -> Iterator[str]:
    """The strings and numbers of a variables value, as text, long enough to look for."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        if len(text) >= _MIN_MASKED:
            yield text
