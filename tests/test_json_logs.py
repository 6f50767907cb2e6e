"""``LOG_FORMAT=json`` through a real gunicorn: every line of its output (gunicorn's own lines,
the access log, the app's) is one JSON object with time, level, logger and message, webhook
lines carry the CallSid and step, and no CPF or password keyed on a call appears."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from database.migrate import upgrade
from telemetry.logs import CallContext, MaskCpfs, configure, json_formatter, mask_cpfs
from tests.conftest import JOAO_CPF, JOAO_PASSWORD, MARIA_CPF, ROOT, call_form
from tests.e2e import live_server
from tests.test_voice_login import login

SID = "CA" + "7" * 32


def test_a_real_gunicorn_logs_one_json_object_a_line(tmp_path: Path) -> None:
    with live_server(tmp_path, environ={"LOG_FORMAT": "json", "GUNICORN_ACCESS_LOG": "-"}
                     ) as live:
        doc = login(live.caller, JOAO_CPF, JOAO_PASSWORD, sid=SID)  # a good login
        assert "Obrigado" in doc.spoken()
        login(live.caller, MARIA_CPF, "913482", sid="CA" + "8" * 32)  # a wrong password
        bad = live.caller.client.post("/voice/step", call_form(SID, Digits=JOAO_CPF),
                                      signature="forged")
        assert bad.status == 403
    text = (tmp_path / "gunicorn.log").read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert len(lines) > 20
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
        datetime.fromisoformat(line["time"])
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "gunicorn.access", "auth.service"} <= loggers
    assert any(line["message"].startswith("Booting worker") for line in lines)

    audit = [line for line in lines if line["logger"] == "auth.service"]
    assert {line["call_sid"] for line in audit} == {SID, "CA" + "8" * 32}
    assert {line["step"] for line in audit} == {"auth.password"}
    assert any("***.***.***-09" in line["message"] for line in audit)  # João's, masked
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    password_steps = [line for line in access if line.get("step") == "auth.password"]
    assert {line["call_sid"] for line in password_steps} == {SID, "CA" + "8" * 32}
    assert all(line["path"] == "/voice/auth/password" and line["status"] == "200"
               for line in password_steps)
    refused = [line for line in lines if line["logger"] == "ivr.provider"]
    assert refused and refused[0]["level"] == "WARNING"

    for secret in (JOAO_CPF, MARIA_CPF, JOAO_PASSWORD, "913482"):
        assert secret not in text


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("ivr.test", logging.ERROR, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize(("text", "masked"), [
    ("cpf=52998224725 refused", "cpf=***.***.***-25 refused"),
    ("CPF 529.982.247-25.", "CPF ***.***.***-25."),
    ("[parameters: ('12345678909', 3)]", "[parameters: ('***.***.***-09', 3)]"),
    # not a CPF: a longer number, a phone in E.164, digits inside a CallSid
    ("+5511987654321", "+5511987654321"),
    ("123456789012", "123456789012"),
    ("CAab12345678901cd", "CAab12345678901cd"),
])
def test_cpfs_are_masked_wherever_they_appear(text: str, masked: str) -> None:
    assert mask_cpfs(text) == masked


def test_the_mask_covers_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("no contact 52998224725")
    except ValueError as error:
        entry = record("lookup of %s failed", "12345678909", exc=error)
    assert MaskCpfs().filter(entry)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(CallContext())
    handler.emit(entry)
    line = json.loads(stream.getvalue())
    assert line["message"] == "lookup of ***.***.***-09 failed"
    assert "ValueError: no contact ***.***.***-25" in line["exc_info"]
    assert "52998224725" not in stream.getvalue()


def test_flask_commands_log_json_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "data", "purge"], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json", "TWILIO_AUTH_TOKEN": "x",
             "IVR_FROZEN_TIME": "2026-12-01T10:00:00-03:00"})
    assert done.returncode == 0, done.stderr
    assert "call records: 0 deleted (older than 365 days)" in done.stdout.splitlines()
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # every line parses
    frozen = [line for line in lines if line["message"].startswith("clock frozen at 2026-12-01")]
    assert [(line["level"], line["logger"]) for line in frozen] == [("WARNING", "app")]


def test_text_logs_are_masked_too() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        configure("text")
        assert any(isinstance(f, MaskCpfs) for f in handler.filters)
        logging.getLogger("ivr.test").warning("no contact %s", MARIA_CPF)
    finally:
        root.removeHandler(handler)
    assert stream.getvalue() == "no contact ***.***.***-25\n"
