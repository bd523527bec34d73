"""Log records as one JSON object a line (or plain text), each with the request id it was written under.

The access log and the application log share the format, so one collector
reads both. A record's ``fields`` (``logger.info(..., extra={"fields": {...}})``)
become keys of its line; what goes there is the caller's choice and must never
be personal data or a secret (the access log, :mod:`gateway.web.request_log`,
writes the route's template, not the path a person typed, and no query string).
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from datetime import UTC, datetime
from typing import Any, Literal

from gateway.observability import request_id

#: the logger of the access log: one line per request
ACCESS_LOGGER = "guichet.access"
Format = Literal["json", "text"]


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _request_id(record: logging.LogRecord) -> str | None:
    stamped = getattr(record, "request_id", None)
    return stamped if isinstance(stamped, str) else request_id.current.get()


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, pid, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = _request_id(record)
        if rid is not None:
            line["request_id"] = rid
        line["pid"] = record.process or os.getpid()
        for key, value in _fields(record).items():
            line.setdefault(key, value)
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = type(record.exc_info[1]).__name__
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, [request id], message, then key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        rid = _request_id(record)
        parts = [_timestamp(record), record.levelname, record.name]
        if rid is not None:
            parts.append(f"[{rid}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={value}" for key, value in _fields(record).items())
        text = " ".join(parts)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return text


def formatter(format_name: Format = "json") -> logging.Formatter:
    """The formatter of ``format_name`` (``dictConfig``'s ``"()"`` factory)."""
    return JsonFormatter() if format_name == "json" else TextFormatter()


def logging_config(format_name: Format, level: str, *, access_log: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary, also given to uvicorn as its ``log_config``.

    Everything goes to standard error through one formatter: the gateway's
    records, uvicorn's own (``uvicorn.error``: start, stop, a worker that died),
    and the access log. uvicorn's access log stays off: it writes the raw path
    with its query string, where one-time codes and ``id_token_hint`` travel.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"guichet": {"()": "gateway.observability.logs.formatter", "format_name": format_name}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "guichet", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # httpx logs each outgoing request's URL at INFO (OpenID Connect, witnesses): query strings stay out
            "httpx": {"handlers": [], "level": "WARNING", "propagate": True},
            ACCESS_LOGGER: {"handlers": [], "level": "INFO" if access_log else "CRITICAL", "propagate": True},
        },
    }
