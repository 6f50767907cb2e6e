"""Flask app factory and command line for the 4003-0015 IVR routing server."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from database import Database
from database.flask_ext import get_db
from database.flask_ext import init_app as init_database
from ivr.calls.recorder import CallRecorder
from ivr.registry import MenuRegistry

log = logging.getLogger(__name__)


def create_app(overrides: dict[str, object] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(Path(app.instance_path))
    register_config(app, settings, overrides or {})
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def shutdown(app: Flask) -> None:
    """Write the call records still queued and close database connections (a worker leaving,
    a test ending)."""
    app.extensions["call_recorder"].close()
    app.extensions["database"].dispose()


def register_config(app: Flask, settings: Settings, overrides: dict[str, object]) -> None:
    app.config.update(
        DATABASE_URL=settings.database_url,
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
        MENUS_FILE=settings.menus_file,
        VALIDATE_SIGNATURES=settings.validate_signatures,
        PUBLIC_BASE_URL=settings.public_base_url,
        PROXY_HOPS=settings.proxy_hops,
        BCRYPT_ROUNDS=settings.bcrypt_rounds,
        MENU_RELOAD_SECONDS=settings.menu_reload_seconds,
        CLOCK=_clock_from_env(),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.config.update(overrides)


def _clock_from_env() -> Callable[[], datetime]:
    frozen = os.environ.get("IVR_FROZEN_TIME")
    if not frozen:
        return lambda: datetime.now(UTC)
    moment = datetime.fromisoformat(frozen)
    if moment.tzinfo is None:
        raise ValueError("IVR_FROZEN_TIME needs a UTC offset, e.g. 2026-12-01T10:00:00-03:00")
    log.warning("clock frozen at %s (IVR_FROZEN_TIME): for tests and demos only", moment)
    return lambda: moment


def register_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic announces each of its plugins at INFO whenever it is imported: seven lines per
    # worker at start-up and per command, which bury what an admin needs to read.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    database = Database(str(app.config["DATABASE_URL"]))
    init_database(app, database)
    app.extensions["menu_registry"] = MenuRegistry(
        Path(str(app.config["MENUS_FILE"])), float(app.config["MENU_RELOAD_SECONDS"])
    )
    app.extensions["call_recorder"] = CallRecorder(database)
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,  # type: ignore[method-assign]
                                x_port=hops, x_prefix=hops)
    from ivr.provider import install

    install(app)


def register_blueprints(app: Flask) -> None:
    from auth.views import bp as auth_bp
    from ivr.views import bp as ivr_bp
    from tickets.views import bp as tickets_bp

    app.register_blueprint(ivr_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(tickets_bp)


def register_error_handlers(app: Flask) -> None:
    """Anything that escapes a /voice view becomes TwiML the caller can live with: never a 5xx."""
    from ivr.errors import voice_failure_response

    @app.errorhandler(Exception)
    def handle_error(error: Exception) -> Response | HTTPException:
        if not request.path.startswith("/voice"):
            if isinstance(error, HTTPException):
                return error
            log.exception("error on %s", request.path)
            return Response("internal error\n", status=500, mimetype="text/plain")
        if isinstance(error, HTTPException) and request.method != "POST":
            return error  # not a provider webhook: a plain HTTP error is the right answer
        return voice_failure_response(error)


def register_commands(app: Flask) -> None:
    from auth.cli import contacts_cli
    from importer.cli import data_cli
    from ivr.cli import menus_cli
    from ivr.simulator import call_cli
    from tickets.cli import tickets_cli

    app.cli.add_command(menus_cli)
    app.cli.add_command(call_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(tickets_cli)


@click.group("db", help="Database schema.")
def db_cli() -> None:
    pass


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the current schema (Alembic migrations)."""
    from flask import current_app

    from database.migrate import upgrade

    with current_app.app_context():
        url = get_db().url
    upgrade(url)
    click.echo("database is at the current schema")
