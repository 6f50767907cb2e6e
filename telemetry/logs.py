"""How the server logs: ``LOG_FORMAT=text`` (lines for people) or ``json`` (one JSON object a
line, python-json-logger), the same for the app, ``flask`` commands and gunicorn's own lines.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, where known,
``call_sid`` and ``step`` (the webhook's endpoint); gunicorn's access lines also ``method``,
``path`` and ``status``. In either format every line passes ``MaskCpfs``: code masks a CPF
before logging it (``***.***.***-25``), and this catches one that slips through anyway (a
database error repeating a statement's parameters). Keyed digits are never logged: the access
log keeps the path, not the query string.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Where the app leaves the call and step of a request for gunicorn's access line, which is
# written after the app's request context is gone (gunicorn passes the environ to it).
CALL_SID_KEY = "ivr.call_sid"
STEP_KEY = "ivr.step"

# Eleven digits, bare or punctuated as a CPF, not inside a longer word or number (a CallSid's
# hex, a phone number in E.164).
_CPF = re.compile(r"(?<![0-9A-Za-z])[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}(?![0-9A-Za-z])")


def mask_cpfs(text: str) -> str:
    return _CPF.sub(lambda found: "***.***.***-" + found.group()[-2:], text)


class MaskCpfs(logging.Filter):
    """Rewrites the record's message (and traceback) with every CPF masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cpfs(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when exc_info is gone, instead of formatting it again.
            record.exc_text, record.exc_info = mask_cpfs(record.exc_text), None
        return True


class CallContext(logging.Filter):
    """Adds ``call_sid`` and ``step`` to a record logged while a webhook is served, or to
    gunicorn's access line of one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            call_sid = g.get("call_sid")
            if call_sid:
                record.call_sid = call_sid
            if request.endpoint:
                record.step = request.endpoint
        elif record.name == "gunicorn.access" and isinstance(record.args, dict):
            _access_fields(record, record.args)
        return True


def _access_fields(record: logging.LogRecord, atoms: dict[str, Any]) -> None:
    record.method, record.path, record.status = atoms.get("m"), atoms.get("U"), atoms.get("s")
    for key, field in ((CALL_SID_KEY, "call_sid"), (STEP_KEY, "step")):
        value = atoms.get("{" + key + "}e")
        if value and value != "-":
            setattr(record, field, value)


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}", style="{", timestamp="time",
        rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


def _handler_config(stream: str, formatter: str) -> dict[str, Any]:
    return {"class": "logging.StreamHandler", "stream": f"ext://sys.{stream}",
            "formatter": formatter, "filters": ["call", "mask"]}


def gunicorn_logconfig(level: str, access_log: str | None) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict`` for JSON lines: its error lines and the app's to stderr,
    its access lines to ``access_log`` (``-``: stdout; None: none), as without it."""
    if access_log is None:
        access: dict[str, Any] = {"level": "CRITICAL", "handlers": [], "propagate": False}
    else:
        access = {"level": "INFO", "handlers": ["access"], "propagate": False}
    access_handler = _handler_config("stdout", "json") if access_log in (None, "-") else {
        "class": "logging.FileHandler", "filename": access_log, "formatter": "json",
        "filters": ["call", "mask"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"call": {"()": CallContext}, "mask": {"()": MaskCpfs}},
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {"stderr": _handler_config("stderr", "json"), "access": access_handler},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": access,
        },
    }


def configure(log_format: str) -> None:
    """The app's logging, unless gunicorn configured it already (``gunicorn_logconfig``)."""
    root = logging.getLogger()
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(json_formatter() if log_format == "json"
                             else logging.Formatter(TEXT_FORMAT))
        if log_format == "json":
            handler.addFilter(CallContext())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, MaskCpfs) for f in handler.filters):
            handler.addFilter(MaskCpfs())
