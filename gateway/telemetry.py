"""What the gateway tells the outside world (its logs, the error messages it answers) never holds
an INSZ, a token or a variable's value.

- Variable errors are worded without the value (`variable_error`): graphql-core's own messages
  quote it ("Variable '$insz' has invalid value: ... '85671012385'").
- `redact` masks what looks like an INSZ (11 digits, with or without the usual dots and dash)
  or a JWT in any text; the app applies it to the error messages it answers (a subgraph's or a
  validation message may quote a literal of the query), and `install_log_redaction` to every log
  record of the process, exception texts included, as a last line behind careful log calls.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, VariableDefinitionNode, print_ast

INSZ_MASK = "<insz>"
TOKEN_MASK = "<token>"
_INSZ = re.compile(r"(?<![\w.-])\d{2}\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}(?![\w-])")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_AT_PATH = re.compile(r" at (\[[^\]]*\])")


def redact(text: str) -> str:
    if not text:
        return text
    return _INSZ.sub(INSZ_MASK, _JWT.sub(TOKEN_MASK, text))


def variable_error(error: GraphQLError) -> str:
    """The message of a variable that could not be coerced, without its value."""
    node = error.nodes[0] if error.nodes else None
    if not isinstance(node, VariableDefinitionNode):
        return redact(error.message)
    name = node.variable.name.value
    where = _AT_PATH.search(error.message.split(":", 1)[0])
    at = f" at {where.group(1)}" if where else ""
    return f"Variable '${name}' has an invalid value{at}: expected type '{print_ast(node.type)}'."


def redact_errors(body: dict[str, Any]) -> None:
    """Mask INSZs and tokens in the messages of a response body's errors, in place."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return
    for error in errors:
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            error["message"] = redact(error["message"])


_installed = False


def configure_logging(level: str = "warning", log_format: str = "text") -> None:
    """The gateway's own loggers (`rugzak.*`) at `level`, to stderr as `log_format` (text or
    json: gateway/log_format.py) unless logging is configured already; every log record of the
    process redacted (`install_log_redaction`). In json, the line per request (rugzak.access)
    is on unless `level` is error or above."""
    from gateway import log_format as formats

    install_log_redaction()
    formatter = formats.formatter(log_format)
    formats.current = log_format
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
    known = logging.getLevelName(level.upper())  # uvicorn's "trace" is not Python's: DEBUG
    rugzak = known if isinstance(known, int) else logging.DEBUG
    logging.getLogger("rugzak").setLevel(rugzak)
    if log_format == "json" and rugzak <= logging.WARNING:
        logging.getLogger("rugzak.access").setLevel(logging.INFO)


def install_log_redaction() -> None:
    """Every log record of this process is redacted once its message is formatted."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacted_record)
