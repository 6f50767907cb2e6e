"""The environment is parsed strictly: a bad value stops the start and names its variable."""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from config import ConfigError, ServerConfig

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"

VARIABLES = (
    "DATABASE_URL", "TWILIO_AUTH_TOKEN", "MENUS_FILE", "TWILIO_VALIDATE_SIGNATURES",
    "PUBLIC_BASE_URL", "PROXY_HOPS", "BCRYPT_ROUNDS", "MENU_RELOAD_SECONDS", "IVR_FROZEN_TIME",
    "GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS",
    "GUNICORN_LOG_LEVEL", "GUNICORN_ACCESS_LOG", "FORWARDED_ALLOW_IPS",
    "TWILIO_ACCOUNT_SID", "TWILIO_API_URL", "OUTBOUND_CALLER_ID",
    "GUNICORN_LOG_LEVEL", "GUNICORN_ACCESS_LOG", "FORWARDED_ALLOW_IPS", "METRICS_TOKEN",
    "LOG_FORMAT", "RETENTION_CALLS_DAYS", "RETENTION_LOGINS_DAYS", "RETENTION_RECORDINGS_DAYS",
    "RETENTION_SURVEY_COMMENTS_DAYS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the shell running the tests exports, each test starts from no settings."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def problems_of(environ: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as refused:
        ServerConfig.from_env(environ)
    return refused.value.problems


# --- the app's variables -------------------------------------------------------------------------

BAD_VALUES = [
    ("TWILIO_VALIDATE_SIGNATURES", value, "is not a boolean (use true or false)")
    for value in ("ture", "enabled", "y", "n", "2", "-1", "truee", "on off")
] + [
    ("PROXY_HOPS", "-1", "is out of range (use 0 to 10)"),
    ("PROXY_HOPS", "11", "is out of range (use 0 to 10)"),
    ("PROXY_HOPS", "1.0", "is not a whole number"),
    ("PROXY_HOPS", "one", "is not a whole number"),
    ("PROXY_HOPS", "1_0", "is not a whole number"),
    ("PROXY_HOPS", "\u0661", "is not a whole number"),  # an Arabic-Indic 1, which int() takes
    ("BCRYPT_ROUNDS", "4", "is out of range (use 10 to 14)"),
    ("BCRYPT_ROUNDS", "9", "is out of range (use 10 to 14)"),
    ("BCRYPT_ROUNDS", "15", "is out of range (use 10 to 14)"),
    ("BCRYPT_ROUNDS", "12.5", "is not a whole number"),
    ("BCRYPT_ROUNDS", "12 rounds", "is not a whole number"),
    ("MENU_RELOAD_SECONDS", "nan", "is not a number of seconds"),
    ("MENU_RELOAD_SECONDS", "inf", "is not a number of seconds"),
    ("MENU_RELOAD_SECONDS", "-inf", "is not a number of seconds"),
    ("MENU_RELOAD_SECONDS", "1e3", "is not a number of seconds"),
    ("MENU_RELOAD_SECONDS", "1s", "is not a number of seconds"),
    ("MENU_RELOAD_SECONDS", "9" * 400, "is too large"),
    ("MENU_RELOAD_SECONDS", "-1", "must be more than 0 seconds"),
    ("MENU_RELOAD_SECONDS", "0", "must be more than 0 seconds"),
    ("MENU_RELOAD_SECONDS", "0.0", "must be more than 0 seconds"),
    ("IVR_FROZEN_TIME", "2026-12-01T10:00:00", "needs a UTC offset"),
    ("IVR_FROZEN_TIME", "tomorrow at ten", "is not an ISO 8601 time"),
    ("PUBLIC_BASE_URL", "ivr.example.com", "is not an http(s) URL"),
    ("PUBLIC_BASE_URL", "ftp://ivr.example.com", "is not an http(s) URL"),
    ("PUBLIC_BASE_URL", "https://", "has no host"),
    ("PUBLIC_BASE_URL", "https:///voice", "has no host"),
    ("PUBLIC_BASE_URL", "https://ivr.example.com/?a=1", "must not have a query or fragment"),
    ("PUBLIC_BASE_URL", "https://ivr.example.com?", "must not have a query or fragment"),
    ("PUBLIC_BASE_URL", "https://ivr.example.com/#top", "must not have a query or fragment"),
    ("PUBLIC_BASE_URL", "https://user:secret@ivr.example.com", "must not hold a user"),
    ("PUBLIC_BASE_URL", "https://ivr.example.com:99999", "is not a URL"),
    ("PUBLIC_BASE_URL", "https://[::1", "is not a URL"),
    ("PUBLIC_BASE_URL", "https://ivr example.com", "is not a URL"),
    ("TWILIO_ACCOUNT_SID", "AC123", "is not an account SID"),
    ("TWILIO_ACCOUNT_SID", "SK" + "a" * 32, "is not an account SID"),
    ("TWILIO_ACCOUNT_SID", "AC" + "A" * 32, "is not an account SID"),  # SIDs are lower case
    ("TWILIO_API_URL", "api.twilio.com", "is not an http(s) URL"),
    ("TWILIO_API_URL", "https://api.twilio.com/?edge=x", "must not have a query or fragment"),
    ("OUTBOUND_CALLER_ID", "4003-0015", "is not an E.164 number"),
    ("OUTBOUND_CALLER_ID", "551140030015", "is not an E.164 number"),
    ("OUTBOUND_CALLER_ID", "+55 11 4003 0015", "is not an E.164 number"),
    ("LOG_FORMAT", "jsonl", "is not one of text, json"),
    ("RETENTION_CALLS_DAYS", "0", "is out of range (use 1 to 3650)"),
    ("RETENTION_LOGINS_DAYS", "3651", "is out of range (use 1 to 3650)"),
    ("RETENTION_RECORDINGS_DAYS", "90d", "is not a whole number"),
    ("RETENTION_SURVEY_COMMENTS_DAYS", "-1", "is out of range (use 1 to 3650)"),
    ("LOG_FORMAT", "yes", "is not one of text, json"),
    ("REDIS_URL", "127.0.0.1:6379", "is not a Redis URL"),
    ("REDIS_URL", "http://127.0.0.1:6379", "is not a Redis URL"),
    ("REDIS_URL", "redis://", "is not a Redis URL"),
    ("REDIS_URL", "redis://user:secret@127.0.0.1:99999/0", "is not a Redis URL"),
    ("RATE_LIMIT_PER_CALL", "9", "is out of range (use 10 or more)"),
    ("RATE_LIMIT_PER_NUMBER", "lots", "is not a whole number"),
    ("PASSWORD_CHECK_SLOTS", "-1", "is out of range (use 0 or more)"),
]


@pytest.mark.parametrize(("value", "problem"), [
    ("short-token", "too short (use at least 16 random characters"),
    ("a token with spaces 0123456789", "must be printable ASCII without spaces"),
    ("tökén-0123456789abcdef", "must be printable ASCII without spaces"),
])
def test_a_bad_metrics_token_is_refused_without_repeating_it(value: str, problem: str) -> None:
    (only,) = problems_of({"METRICS_TOKEN": value})
    assert only.startswith(f"METRICS_TOKEN: {problem}")
    assert value not in only


def test_retention_days() -> None:
    config = ServerConfig.from_env({"RETENTION_CALLS_DAYS": "30", "RETENTION_LOGINS_DAYS": ""})
    assert config.retention_days == {"calls": 30, "logins": 180, "recordings": 90,
                                     "survey_comments": 180}


def test_metrics_token_and_log_format() -> None:
    config = ServerConfig.from_env({"METRICS_TOKEN": "  0123456789abcdef\n", "LOG_FORMAT": "JSON"})
    assert (config.metrics_token, config.log_format) == ("0123456789abcdef", "json")
    default = ServerConfig.from_env({})
    assert (default.metrics_token, default.log_format) == (None, "text")


@pytest.mark.parametrize(("name", "value", "problem"), BAD_VALUES)
def test_a_bad_value_is_refused_with_its_variable_s_name(name: str, value: str,
                                                         problem: str) -> None:
    (only,) = problems_of({name: value})
    shown = value.replace("user:secret@", "***@")  # a password is not repeated
    assert only.startswith(f"{name}: {shown!r} {problem}")


def test_the_message_says_what_a_boolean_is() -> None:
    with pytest.raises(ConfigError) as refused:
        ServerConfig.from_env({"TWILIO_VALIDATE_SIGNATURES": " ture "})
    assert str(refused.value) == (
        "TWILIO_VALIDATE_SIGNATURES: 'ture' is not a boolean (use true or false)")


def test_every_bad_variable_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        ServerConfig.from_env({"TWILIO_VALIDATE_SIGNATURES": "enabled", "PROXY_HOPS": "-1",
                               "BCRYPT_ROUNDS": "4", "MENU_RELOAD_SECONDS": "nan",
                               "IVR_FROZEN_TIME": "2026-12-01T10:00:00",
                               "PUBLIC_BASE_URL": "ivr.example.com", "MENUS_FILE": "menus.yaml"})
    names = [problem.split(":")[0] for problem in refused.value.problems]
    assert names == ["TWILIO_VALIDATE_SIGNATURES", "PUBLIC_BASE_URL", "PROXY_HOPS",
                     "BCRYPT_ROUNDS", "MENU_RELOAD_SECONDS", "IVR_FROZEN_TIME"]
    assert str(refused.value).splitlines() == [
        "6 invalid environment variables:", *(f"  {p}" for p in refused.value.problems)]
    assert isinstance(refused.value, ValueError)


def test_booleans_are_exactly_the_usual_words() -> None:
    for value, expected in [("true", True), ("TRUE", True), ("1", True), ("yes", True),
                            (" On ", True), ("false", False), ("False", False), ("0", False),
                            ("no", False), ("OFF", False)]:
        config = ServerConfig.from_env({"TWILIO_VALIDATE_SIGNATURES": value})
        assert config.validate_signatures is expected, value
    for value in ("t", "f", "y", "enabled", "disabled", "none"):
        assert problems_of({"TWILIO_VALIDATE_SIGNATURES": value}), value


@pytest.mark.parametrize(
    ("name", "field", "lowest", "highest", "refused"),
    [
        ("PROXY_HOPS", "proxy_hops", ("0", 0), (" 10 ", 10), ("-1", "11")),
        ("BCRYPT_ROUNDS", "bcrypt_rounds", ("10", 10), ("14", 14), ("9", "15")),
        ("MENU_RELOAD_SECONDS", "menu_reload_seconds", ("0.05", 0.05), ("3600", 3600.0),
         ("0", "inf")),
    ],
)
def test_numbers_are_taken_up_to_the_ends_of_their_range(
        name: str, field: str, lowest: tuple[str, object], highest: tuple[str, object],
        refused: tuple[str, str]) -> None:
    for value, expected in (lowest, highest):
        assert getattr(ServerConfig.from_env({name: value}), field) == expected
    for value in refused:
        assert problems_of({name: value}), value


def test_public_base_url_is_an_http_url_without_its_trailing_slash() -> None:
    for value, expected in [("https://ivr.example.com/", "https://ivr.example.com"),
                            ("https://gw.example.com/ivr", "https://gw.example.com/ivr"),
                            ("http://127.0.0.1:8080", "http://127.0.0.1:8080")]:
        assert ServerConfig.from_env({"PUBLIC_BASE_URL": value}).public_base_url == expected
    assert problems_of({"PUBLIC_BASE_URL": "ivr.example.com/"})


def test_redis_urls_and_rate_limits_are_read() -> None:
    config = ServerConfig.from_env({"REDIS_URL": " redis://127.0.0.1:6379/2 ",
                                    "RATE_LIMIT_PER_CALL": "30", "RATE_LIMIT_PER_NUMBER": "10"})
    assert (config.redis_url, config.rate_limit_per_call, config.rate_limit_per_number) == (
        "redis://127.0.0.1:6379/2", 30, 10)
    assert ServerConfig.from_env({"REDIS_URL": "unix:///run/redis.sock"}).redis_url == (
        "unix:///run/redis.sock")
    assert ServerConfig.from_env({}).redis_url is None


def test_a_short_pepper_is_refused_without_repeating_it() -> None:
    (only,) = problems_of({"PASSWORD_PEPPER": "short-secret"})
    assert only.startswith("PASSWORD_PEPPER: too short (use at least 32 random characters")
    assert "short-secret" not in only


def test_the_pepper_is_read_and_never_shown() -> None:
    pepper = "Zx3" * 11
    config = ServerConfig.from_env({"PASSWORD_PEPPER": f" {pepper}\n"})
    assert config.password_pepper == pepper
    assert pepper not in repr(config)
    assert ServerConfig.from_env({}).password_pepper is None


def test_the_frozen_time_is_read_with_its_offset() -> None:
    config = ServerConfig.from_env({"IVR_FROZEN_TIME": " 2026-12-01T10:00:00-03:00 "})
    assert config.frozen_time == datetime.fromisoformat("2026-12-01T13:00:00+00:00")


def test_defaults() -> None:
    assert ServerConfig.from_env({}) == ServerConfig(
        database_url=None, twilio_auth_token=None, menus_file=ROOT / "menus.yaml",
        validate_signatures=True, public_base_url=None, proxy_hops=0, bcrypt_rounds=12,
        menu_reload_seconds=1.0, frozen_time=None)


def test_the_rest_api_settings() -> None:
    config = ServerConfig.from_env({"TWILIO_ACCOUNT_SID": " AC" + "0a" * 16 + " ",
                                    "TWILIO_API_URL": "http://127.0.0.1:8999/",
                                    "OUTBOUND_CALLER_ID": "+551140030015"})
    assert config.twilio_account_sid == "AC" + "0a" * 16
    assert config.twilio_api_url == "http://127.0.0.1:8999"
    assert config.outbound_caller_id == "+551140030015"
    unset = ServerConfig.from_env({})
    assert (unset.twilio_account_sid, unset.outbound_caller_id) == (None, None)
    assert unset.twilio_api_url == "https://api.twilio.com"


def test_an_empty_variable_takes_the_default() -> None:
    blank = {name: " " for name in VARIABLES}
    assert ServerConfig.from_env(blank) == ServerConfig.from_env({})


def test_create_app_refuses_a_bad_environment(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURES", "ture")
    with pytest.raises(ConfigError, match="TWILIO_VALIDATE_SIGNATURES: 'ture' is not a boolean"):
        # overrides (the tests' way in) do not make a bad environment acceptable
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
                    "VALIDATE_SIGNATURES": True})


def test_a_flask_command_refuses_to_start_with_a_one_line_message(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWILIO_VALIDATE_SIGNATURES": "ture",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "menus", "check"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: TWILIO_VALIDATE_SIGNATURES: 'ture' is not a boolean (use true or false)\n")
    assert result.stdout == ""


# --- gunicorn.conf.py ----------------------------------------------------------------------------


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, Any]:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def gunicorn_refusal(monkeypatch: pytest.MonkeyPatch, **environ: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        gunicorn_settings(monkeypatch, **environ)
    return str(stopped.value.code)


def test_gunicorn_defaults_listen_on_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = gunicorn_settings(monkeypatch)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert (settings["timeout"], settings["max_requests"], settings["loglevel"]) == (15, 0, "info")


def test_gunicorn_takes_host_port_unix_and_fd_binds(monkeypatch: pytest.MonkeyPatch) -> None:
    for bind in ["0.0.0.0:8000", "127.0.0.1:9000", "[::1]:8000", "ivr-internal:80",
                 "unix:/run/ivr/gunicorn.sock", "fd://3"]:
        assert gunicorn_settings(monkeypatch, GUNICORN_BIND=bind,
                                 PUBLIC_BASE_URL="https://ivr.example.com")["bind"] == bind
    assert gunicorn_refusal(monkeypatch, GUNICORN_BIND="localhost")


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("GUNICORN_BIND", "0.0.0.0", "is not HOST:PORT"),
        ("GUNICORN_BIND", "0.0.0.0:http", "is not HOST:PORT"),
        ("GUNICORN_BIND", "0.0.0.0:0", "is not HOST:PORT"),
        ("GUNICORN_BIND", "0.0.0.0:65536", "is not HOST:PORT"),
        ("GUNICORN_BIND", ":8000", "is not HOST:PORT"),
        ("GUNICORN_BIND", "unix:", "is not HOST:PORT"),
        ("GUNICORN_BIND", "fd://three", "is not HOST:PORT"),
        ("GUNICORN_WORKERS", "0", "is out of range (use 1 or more)"),
        ("GUNICORN_WORKERS", "four", "is not a whole number"),
        ("GUNICORN_WORKERS", "2.5", "is not a whole number"),
        ("GUNICORN_TIMEOUT", "0", "is out of range (use 1 or more)"),
        ("GUNICORN_TIMEOUT", "15s", "is not a whole number"),
        ("GUNICORN_MAX_REQUESTS", "-1", "is out of range (use 0 or more)"),
        ("GUNICORN_LOG_LEVEL", "verbose", "is not one of debug, info, warning, error, critical"),
        # the app's own variables stop the master too, before any worker starts
        ("TWILIO_VALIDATE_SIGNATURES", "ture", "is not a boolean"),
        ("BCRYPT_ROUNDS", "4", "is out of range (use 10 to 14)"),
    ],
)
def test_gunicorn_refuses_a_bad_value(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                      problem: str) -> None:
    message = gunicorn_refusal(monkeypatch, **{name: value})
    assert message.startswith(f"Error: {name}: {value!r} {problem}")


def test_gunicorn_lists_every_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    message = gunicorn_refusal(monkeypatch, GUNICORN_BIND="0.0.0.0", GUNICORN_WORKERS="x",
                               PROXY_HOPS="-1")
    assert message.splitlines()[0] == "Error: 3 invalid environment variables:"
    assert [line.split(":")[0].strip() for line in message.splitlines()[1:]] == [
        "GUNICORN_BIND", "GUNICORN_WORKERS", "PROXY_HOPS"]


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "[::]:8000", "10.0.0.5:8000", "ivr-internal:80",
                                  "fd://3"])
def test_gunicorn_refuses_a_public_bind_without_the_public_url(
    monkeypatch: pytest.MonkeyPatch, bind: str
) -> None:
    """Signatures would be checked against whatever Host a request names: a webhook captured
    from another app of the same provider account would validate."""
    message = gunicorn_refusal(monkeypatch, GUNICORN_BIND=bind)
    assert message.startswith(f"Error: GUNICORN_BIND: {bind!r} listens beyond this machine")
    assert "PUBLIC_BASE_URL" in message


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "[::1]:8000", "localhost:8000",
                                  "unix:/run/ivr/gunicorn.sock"])
def test_gunicorn_takes_a_loopback_bind_without_the_public_url(
    monkeypatch: pytest.MonkeyPatch, bind: str
) -> None:
    assert gunicorn_settings(monkeypatch, GUNICORN_BIND=bind)["bind"] == bind


def test_gunicorn_trusts_forwarded_headers_from_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    settings = gunicorn_settings(monkeypatch)
    assert settings["forwarded_allow_ips"] == ""
    assert settings["secure_scheme_headers"] == {}  # unix sockets trust every peer otherwise
    assert settings["forwarder_headers"] == ""


def test_gunicorn_refuses_a_public_bind_given_on_its_command_line() -> None:
    """``-b`` and ``GUNICORN_CMD_ARGS`` bypass GUNICORN_BIND: the check runs on every bind."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PUBLIC_BASE_URL", "GUNICORN_BIND"}}
    env["TWILIO_AUTH_TOKEN"] = "x"
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "-b", "0.0.0.0:8799",
         "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "'0.0.0.0:8799' listens beyond this machine" in done.stdout + done.stderr


def test_a_token_pasted_with_its_newline_is_the_token() -> None:
    assert ServerConfig.from_env({"TWILIO_AUTH_TOKEN": " abc123\n"}).twilio_auth_token == "abc123"
