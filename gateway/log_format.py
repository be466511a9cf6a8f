"""How log lines look: `text` (timestamp, level, logger, message: for people) or `json` (one
object a line: for a log pipeline). A record's `fields` (the request line, a subgraph error)
become keys of its JSON object."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# the format this process logs in, once configured (uvicorn's own loggers then follow it)
current: str | None = None


def _timestamp(created: float) -> str:
    """RFC 3339 in UTC with milliseconds: 2026-12-02T18:21:13.042Z."""
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update((k, v) for k, v in fields.items() if k not in entry)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record.created)


def formatter(name: str) -> logging.Formatter:
    if name not in FORMATS:
        raise ValueError(f"the log format is one of {', '.join(FORMATS)}, got {name!r}")
    return JsonFormatter() if name == "json" else TextFormatter()


def uvicorn_log_config() -> dict[str, Any] | None:
    """uvicorn's logging configuration: none once the gateway configured logging (its lines
    then go through the gateway's handler, with timestamps, as text or JSON); else uvicorn's
    own."""
    if current is not None:
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
