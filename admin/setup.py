"""The console's place in the app: its session cookie, the start-up check of ``SECRET_KEY``,
its blueprint."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from admin.models import AdminAccount
from config import ConfigError
from database import Database

PREFIX = "/admin"
SESSION_LIFETIME = timedelta(hours=8)


class AdminSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie (HMAC-SHA256 here), opened under ``/admin`` only: every other
    request, the provider's webhooks included, gets the null session it got before the console
    existed, and never reads or sets a cookie."""

    digest_method = staticmethod(hashlib.sha256)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(PREFIX):
            return None
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    https = str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="ivr_admin",
        SESSION_COOKIE_PATH=PREFIX,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The upload of a menu preview is the one larger body (admin.views.preview).
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
    )
    app.session_interface = AdminSessionInterface()
    from admin.views import bp

    app.register_blueprint(bp)


CONSOLE_NEEDS_KEY = (
    "SECRET_KEY: required once an admin account exists (it signs the /admin/ session cookie): "
    "set it to at least 32 random characters, "
    "e.g. python -c 'import secrets; print(secrets.token_hex(32))'")


def require_secret_key(app: Flask) -> None:
    """Raises ``ConfigError`` when an admin exists and ``SECRET_KEY`` is not set: the console's
    sessions could not be signed (and a key made up at start would differ between workers)."""
    if app.config.get("SECRET_KEY"):
        return
    if admins_exist(app.extensions["database"]):
        raise ConfigError([CONSOLE_NEEDS_KEY])


def missing_secret_key(database_url: str, secret_key: str | None) -> str | None:
    """``require_secret_key``'s check for gunicorn's master, before any worker starts: the
    problem, or None. Its connection is closed again, so no worker inherits it."""
    if secret_key:
        return None
    database = Database(database_url)
    try:
        return CONSOLE_NEEDS_KEY if admins_exist(database) else None
    finally:
        database.dispose()


def admins_exist(database: Database) -> bool:
    """False too for a database not yet migrated (``db upgrade`` must still run)."""
    try:
        with database.engine.connect() as connection:
            if not inspect(connection).has_table(AdminAccount.__tablename__):
                return False
            return connection.execute(select(AdminAccount.id).limit(1)).first() is not None
    except SQLAlchemyError:
        return False
