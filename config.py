"""The server's settings, read from the environment once, at start-up.

Every value is parsed strictly: a typo stops the start instead of quietly turning a protection
off (``TWILIO_VALIDATE_SIGNATURES=ture`` once meant *false*). An unset or empty variable takes
its default. Every bad variable is reported at once, in one ``ConfigError``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import click

ROOT = Path(__file__).resolve().parent
MIN_PEPPER_LENGTH = 32  # docs/rules.md#password-storage

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_USER_INFO = re.compile(r"//[^/?#]*@")
_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+")
_TIME_EXAMPLE = "2026-12-01T10:00:00-03:00"
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
TWILIO_API_URL = "https://api.twilio.com"  # the provider's public REST API
SECRET_KEY_MIN_LENGTH = 32

T = TypeVar("T")


class ConfigError(click.ClickException, ValueError):
    """Every invalid variable, one ``NAME: problem`` each.

    A ``click.ClickException`` so that a ``flask`` command refuses with ``Error: ...`` and exit
    status 1 rather than a traceback.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} invalid environment variables:\n" + "\n".join(
                f"  {problem}" for problem in self.problems)
        super().__init__(message)


class Environment:
    """Reads variables strictly and collects what is wrong with them; ``check`` raises it all.

    A bad value is recorded and its default returned, so that reading goes on and every
    problem is reported together.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.problems: list[str] = []

    def check(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def text(self, name: str) -> str | None:
        """The value as it is; None when unset or blank."""
        value = self._environ.get(name)
        return value if value is not None and value.strip() else None

    def flag(self, name: str, default: bool) -> bool:
        raw = self._trimmed(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        return self._refuse(name, raw, "is not a boolean (use true or false)", default)

    def integer(self, name: str, default: int, *, minimum: int,
                maximum: int | None = None) -> int:
        raw = self._trimmed(name)
        if raw is None:
            return default
        if not _INTEGER.fullmatch(raw):
            return self._refuse(name, raw, "is not a whole number", default)
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f"{minimum} or more" if maximum is None else f"{minimum} to {maximum}"
            return self._refuse(name, raw, f"is out of range (use {allowed})", default)
        return value

    def seconds(self, name: str, default: float) -> float:
        """A finite number of seconds, more than 0."""
        raw = self._trimmed(name)
        if raw is None:
            return default
        if not _DECIMAL.fullmatch(raw):
            return self._refuse(name, raw, "is not a number of seconds (e.g. 1 or 0.5)", default)
        value = float(raw)
        if not math.isfinite(value):
            return self._refuse(name, raw, "is too large", default)
        if value <= 0:
            return self._refuse(name, raw, "must be more than 0 seconds", default)
        return value

    def choice(self, name: str, default: str, choices: Collection[str]) -> str:
        """One of ``choices`` (lower case), case-insensitive."""
        raw = self._trimmed(name)
        if raw is None:
            return default
        if raw.lower() in choices:
            return raw.lower()
        return self._refuse(name, raw, f"is not one of {', '.join(choices)}", default)

    def base_url(self, name: str) -> str | None:
        """An http(s) URL with a host and no query or fragment, without its trailing slash."""
        raw = self._trimmed(name)
        if raw is None:
            return None
        problem = _base_url_problem(raw)
        if problem:
            shown = _USER_INFO.sub("//***@", raw)  # a password in the URL stays out of the logs
            return self._refuse(name, shown, problem, None)
        return raw.rstrip("/")

    def pattern(self, name: str, pattern: re.Pattern[str], problem: str) -> str | None:
        """A value that matches ``pattern`` whole (an account SID, a phone number)."""
        raw = self._trimmed(name)
        if raw is None:
            return None
        if not pattern.fullmatch(raw):
            return self._refuse(name, raw, problem, None)
        return raw

    def redis_url(self, name: str) -> str | None:
        """A Redis server: ``redis://`` or ``rediss://`` with a host, or ``unix://`` a path."""
        raw = self._trimmed(name)
        if raw is None:
            return None
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        ok = parts is not None and not any(char.isspace() for char in raw) and (
            (parts.scheme in {"redis", "rediss"} and bool(parts.hostname))
            or (parts.scheme == "unix" and bool(parts.path)))
        if not ok:
            shown = _USER_INFO.sub("//***@", raw)  # a password in the URL stays out of the logs
            return self._refuse(name, shown, "is not a Redis URL (e.g. redis://127.0.0.1:6379/0)",
                                None)
        return raw

    def aware_time(self, name: str) -> datetime | None:
        """An ISO 8601 time with its UTC offset."""
        raw = self._trimmed(name)
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return self._refuse(name, raw, f"is not an ISO 8601 time (e.g. {_TIME_EXAMPLE})",
                                None)
        if moment.tzinfo is None:
            return self._refuse(name, raw, f"needs a UTC offset (e.g. {_TIME_EXAMPLE})", None)
        return moment

    def address(self, name: str, default: str) -> str:
        """Where a server listens: ``HOST:PORT``, ``unix:PATH`` or ``fd://N``."""
        raw = self._trimmed(name)
        if raw is None:
            return default
        if not _is_address(raw):
            return self._refuse(
                name, raw, "is not HOST:PORT (e.g. 127.0.0.1:8000), unix:PATH or fd://N", default)
        return raw

    def secret(self, name: str, min_length: int, *, header: bool = False) -> str | None:
        """A key of at least ``min_length`` characters; never shown in a message. ``header``:
        sent in an HTTP header, so printable ASCII without spaces."""
        raw = self._trimmed(name)
        if raw is None:
            return None
        if header and not (raw.isascii() and raw.isprintable() and " " not in raw):
            self.problems.append(f"{name}: must be printable ASCII without spaces")
            return None
        if len(raw) < min_length:
            self.problems.append(f"{name}: too short (use at least {min_length} random "
                                 "characters, e.g. python -c 'import secrets; "
                                 "print(secrets.token_hex(32))')")
            return None
        return raw

    def _trimmed(self, name: str) -> str | None:
        value = self.text(name)
        return None if value is None else value.strip()

    def _refuse(self, name: str, raw: str, problem: str, default: T) -> T:
        self.problems.append(f"{name}: {raw!r} {problem}")
        return default


def _base_url_problem(raw: str) -> str | None:
    if any(char.isspace() for char in raw):
        return "is not a URL (it holds a space)"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0 to 65535
    except ValueError:
        return "is not a URL"
    if parts.scheme not in {"http", "https"}:
        return "is not an http(s) URL (e.g. https://ivr.example.com)"
    if not parts.hostname:
        return "has no host (e.g. https://ivr.example.com)"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user or password"
    if "?" in raw or "#" in raw:
        return "must not have a query or fragment"
    return None


def is_loopback(address: str) -> bool:
    """A listening address (``Environment.address``) reachable from this machine only."""
    if address.startswith("unix:"):
        return True
    host = address.rpartition(":")[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_address(raw: str) -> bool:
    if raw.startswith("unix:"):
        return len(raw) > len("unix:")
    if raw.startswith("fd://"):
        return raw[len("fd://"):].isascii() and raw[len("fd://"):].isdigit()
    host, _, port = raw.rpartition(":")
    return (_HOST.fullmatch(host) is not None and port.isascii() and port.isdigit()
            and 1 <= int(port) <= 65535)


# Days kept by default (LGPD: no longer than the purpose needs). A year of call records for
# the console's charts; six months of login attempts, the access records Marco Civil (Law
# 12.965, art. 15) asks an application to keep; recordings and survey comments, whose words
# are the caller's own, for as long as a team needs to act on them.
RETENTION_DEFAULTS = {"calls": 365, "logins": 180, "recordings": 90, "survey_comments": 180}


@dataclass(frozen=True)
class ServerConfig:
    """What the environment says (``README.md``, "Configuration")."""

    database_url: str | None  # None: SQLite in the app's instance folder
    twilio_auth_token: str | None
    menus_file: Path
    validate_signatures: bool = True
    public_base_url: str | None = None
    proxy_hops: int = 0
    bcrypt_rounds: int = 12
    menu_reload_seconds: float = 1.0
    frozen_time: datetime | None = None
    twilio_account_sid: str | None = None  # None: reminder calls are skipped with a warning
    twilio_api_url: str = TWILIO_API_URL
    outbound_caller_id: str | None = None
    metrics_token: str | None = None  # None: /metrics answers loopback only
    log_format: str = "text"
    # days each kind of personal data is kept (``data purge``), by name (privacy.rules)
    retention_days: Mapping[str, int] = field(default_factory=lambda: dict(RETENTION_DEFAULTS))
    redis_url: str | None = None
    password_pepper: str | None = field(default=None, repr=False)
    rate_limit_per_call: int = 60
    rate_limit_per_number: int = 300
    password_check_slots: int = 0  # 0: no limit (auth/check_slots.py)
    secret_key: str | None = None  # signs the /admin/ session; required once an admin exists

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Raises ``ConfigError`` listing every bad variable."""
        env = Environment(environ)
        config = cls.read(env)
        env.check()
        return config

    @classmethod
    def read(cls, env: Environment) -> ServerConfig:
        """Leaves the problems in ``env`` (gunicorn.conf.py adds its own before checking)."""
        menus_file = env.text("MENUS_FILE")
        return cls(
            database_url=env.text("DATABASE_URL"),
            # A stray newline (a token pasted from a file) would make every signature wrong.
            twilio_auth_token=(env.text("TWILIO_AUTH_TOKEN") or "").strip() or None,
            menus_file=Path(menus_file) if menus_file else ROOT / "menus.yaml",
            validate_signatures=env.flag("TWILIO_VALIDATE_SIGNATURES", True),
            public_base_url=env.base_url("PUBLIC_BASE_URL"),
            proxy_hops=env.integer("PROXY_HOPS", 0, minimum=0, maximum=10),
            # 10 is OWASP's floor; each step doubles a login's time (12: ~0.25 s, 14: ~1 s; 16
            # took ~20 s here, past the provider's webhook timeout). Tests that want cheap
            # hashes pass BCRYPT_ROUNDS to create_app, not through the environment.
            bcrypt_rounds=env.integer("BCRYPT_ROUNDS", 12, minimum=10, maximum=14),
            password_pepper=env.secret("PASSWORD_PEPPER", MIN_PEPPER_LENGTH),
            menu_reload_seconds=env.seconds("MENU_RELOAD_SECONDS", 1.0),
            frozen_time=env.aware_time("IVR_FROZEN_TIME"),
            twilio_account_sid=env.pattern(
                "TWILIO_ACCOUNT_SID", _ACCOUNT_SID, "is not an account SID (AC and 32 hex digits)"),
            twilio_api_url=env.base_url("TWILIO_API_URL") or TWILIO_API_URL,
            outbound_caller_id=env.pattern(
                "OUTBOUND_CALLER_ID", _E164, "is not an E.164 number (e.g. +551140030015)"),
            metrics_token=env.secret("METRICS_TOKEN", 16, header=True),
            log_format=env.choice("LOG_FORMAT", "text", ("text", "json")),
            retention_days={
                name: env.integer(f"RETENTION_{name.upper()}_DAYS", default, minimum=1,
                                  maximum=3650)
                for name, default in RETENTION_DEFAULTS.items()},
            redis_url=env.redis_url("REDIS_URL"),
            # docs/rules.md#rate-limits: a person's call makes at most 10 to 20 webhooks a minute
            rate_limit_per_call=env.integer("RATE_LIMIT_PER_CALL", 60, minimum=10),
            rate_limit_per_number=env.integer("RATE_LIMIT_PER_NUMBER", 300, minimum=10),
            password_check_slots=env.integer("PASSWORD_CHECK_SLOTS", 0, minimum=0),
            secret_key=env.secret("SECRET_KEY", SECRET_KEY_MIN_LENGTH),
        )
