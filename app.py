"""Flask app factory and command line for the 4003-0015 IVR routing server."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from admin.setup import require_secret_key
from auth.check_slots import CheckSlots
from auth.passwords import Pepper, limit_checks
from config import ServerConfig
from database import Database
from database.flask_ext import get_db
from database.flask_ext import init_app as init_database
from importer.sections import ImportSection
from ivr.calls.recorder import CallRecorder
from ivr.calls.spool import Spool, spool_directory
from ivr.registry import MenuRegistry
from privacy.rules import Erasure, Purge

log = logging.getLogger(__name__)

# Flask's own choice for this module, named so that gunicorn's master finds the same database.
INSTANCE_PATH = Path(__file__).resolve().parent / "instance"
# The packages the app is made of (create_app imports their modules on its way).
PACKAGES = ("admin", "auth", "database", "importer", "ivr", "ouvidoria", "privacy", "surveys",
            "telemetry", "tickets")


def import_modules() -> int:
    """Imports every module of ``PACKAGES`` without creating anything, and says how many.
    gunicorn's master calls it (``gunicorn.conf.py``): the workers it forks, and starts again
    after one dies, find them loaded instead of each importing them while it creates the app."""
    count = 0
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, name + "."):
            importlib.import_module(module.name)
            count += 1
    return count


def create_app(overrides: dict[str, object] | None = None) -> Flask:
    config = ServerConfig.from_env()  # a bad variable stops here: ConfigError names it
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_logging(config.log_format)  # first: what the set-up logs comes out formatted too
    register_config(app, config, overrides or {})
    register_extensions(app)
    require_secret_key(app)  # an admin exists: no start without the key that signs its sessions
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_metrics(app)
    return app


def shutdown(app: Flask) -> None:
    """Write the call records still queued and close database connections (a worker leaving,
    a test ending)."""
    app.extensions["call_recorder"].close()
    app.extensions["menu_registry"].close()
    app.extensions["database"].dispose()


def register_config(app: Flask, config: ServerConfig, overrides: dict[str, object]) -> None:
    """The environment's settings, then ``overrides`` (tests: taken as they are, unchecked)."""
    app.config.update(
        DATABASE_URL=database_url(config),
        TWILIO_AUTH_TOKEN=config.twilio_auth_token,
        MENUS_FILE=config.menus_file,
        VALIDATE_SIGNATURES=config.validate_signatures,
        PUBLIC_BASE_URL=config.public_base_url,
        PROXY_HOPS=config.proxy_hops,
        BCRYPT_ROUNDS=config.bcrypt_rounds,
        PASSWORD_PEPPER=_pepper(config.password_pepper),
        MENU_RELOAD_SECONDS=config.menu_reload_seconds,
        REDIS_URL=config.redis_url,
        RATE_LIMIT_PER_CALL=config.rate_limit_per_call,
        RATE_LIMIT_PER_NUMBER=config.rate_limit_per_number,
        PASSWORD_CHECK_SLOTS=config.password_check_slots,
        CLOCK=_clock(config.frozen_time),
        TWILIO_ACCOUNT_SID=config.twilio_account_sid,
        TWILIO_API_URL=config.twilio_api_url,
        OUTBOUND_CALLER_ID=config.outbound_caller_id,
        METRICS_TOKEN=config.metrics_token,
        RETENTION_DAYS=dict(config.retention_days),
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.config.update(overrides)


def _pepper(secret: str | None) -> Pepper | None:
    if secret is None:
        log.warning("PASSWORD_PEPPER is not set: a stolen copy of the contacts table could be "
                    "brute-forced offline (docs/rules.md#password-storage)")
        return None
    return Pepper(secret.encode())


def database_url(config: ServerConfig) -> str:
    """``DATABASE_URL``, or SQLite in the instance folder."""
    return config.database_url or f"sqlite:///{INSTANCE_PATH / 'ivr.sqlite3'}"


def _clock(frozen: datetime | None) -> Callable[[], datetime]:
    if frozen is None:
        return lambda: datetime.now(UTC)
    log.warning("clock frozen at %s (IVR_FROZEN_TIME): for tests and demos only", frozen)
    return lambda: frozen


def register_logging(log_format: str) -> None:
    from telemetry.logs import configure

    configure(log_format)
    # Alembic announces each of its plugins at INFO whenever it is imported: seven lines per
    # worker at start-up and per command, which bury what an admin needs to read.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    database = Database(str(app.config["DATABASE_URL"]))
    init_database(app, database)
    app.extensions["menu_registry"] = MenuRegistry(
        Path(str(app.config["MENUS_FILE"])), float(app.config["MENU_RELOAD_SECONDS"])
    )
    spool = Path(str(app.config.get("CALL_SPOOL_DIR") or spool_directory(
        Path(app.instance_path), str(app.config["DATABASE_URL"]))))
    app.extensions["call_recorder"] = CallRecorder(database, spool=Spool(spool))
    app.extensions["import_sections"] = import_sections(app.config["PASSWORD_PEPPER"])
    slots = int(app.config["PASSWORD_CHECK_SLOTS"] or 0)
    limit_checks(CheckSlots(Path(app.instance_path) / "check-slots", slots) if slots else None)
    app.extensions["purges"], app.extensions["erasures"] = privacy_rules()
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        # The client's address and scheme only: a host, port or prefix taken from a header
        # would let a request signed for another app of the provider account validate here.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    from ivr import rate_limits
    from ivr.fallback import install as install_fallback
    from ivr.provider import install

    install(app)
    install_fallback(app)
    rate_limits.install(app)


def import_sections(pepper: Pepper | None = None) -> list[ImportSection]:
    """The lists of ``data import``, in the order a file is applied (a list may refer to
    earlier ones); passwords hashed with ``pepper`` (``PASSWORD_PEPPER``)."""
    from auth.importing import sections as auth_sections
    from tickets.importing import SECTIONS as ticket_sections

    return [*auth_sections(pepper), *ticket_sections]


def privacy_rules() -> tuple[list[Purge], list[Erasure]]:
    """What ``data purge`` and ``contacts forget`` do, package by package. Auth comes first:
    it finds the person, whose contact row is erased last."""
    from admin import retention as admin_rules
    from auth import retention as auth_rules
    from ivr.calls import retention as call_rules
    from ouvidoria import retention as ouvidoria_rules
    from surveys import retention as survey_rules
    from tickets import retention as ticket_rules

    packages = (auth_rules, ticket_rules, ouvidoria_rules, survey_rules, call_rules, admin_rules)
    return ([rule for package in packages for rule in package.PURGES],
            [rule for package in packages for rule in package.ERASURES])


def register_blueprints(app: Flask) -> None:
    from admin import setup as admin_setup
    from auth import subscriptions as auth_subscriptions
    from auth.views import bp as auth_bp
    from ivr.views import bp as ivr_bp
    from ouvidoria.views import bp as ouvidoria_bp
    from surveys.views import bp as surveys_bp
    from tickets import subscriptions as ticket_subscriptions
    from tickets.reminder_views import bp as reminders_bp
    from tickets.views import bp as tickets_bp

    app.register_blueprint(ivr_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(ouvidoria_bp)
    app.register_blueprint(surveys_bp)
    admin_setup.init_app(app)
    # ivr imports neither auth nor tickets: auth answers its login question and hears its calls
    # end; tickets hears how its reminder calls ended.
    auth_subscriptions.install(app)
    ticket_subscriptions.install(app)


def register_metrics(app: Flask) -> None:
    """``/metrics``, every webhook counted and timed, and auth's logins counted (announced on
    ``ivr.signals.login_checked``: ivr never imports auth)."""
    from ivr import signals
    from telemetry.exposition import bp as metrics_bp
    from telemetry.webhooks import WebhookMetrics

    app.register_blueprint(metrics_bp)
    signals.login_checked.connect(_count_login, sender=app)
    steps = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/voice") and not rule.arguments}
    app.wsgi_app = WebhookMetrics(app.wsgi_app, steps)  # type: ignore[method-assign]


def _count_login(app: Flask, *, result: str, **_: object) -> None:
    from telemetry.metrics import count_login

    count_login(result)


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
    from admin.cli import admins_cli
    from auth.cli import contacts_cli
    from importer.cli import data_cli
    from ivr.cli import menus_cli
    from ivr.simulator import call_command
    from ouvidoria.cli import ouvidoria_cli
    from surveys.cli import surveys_cli
    from tickets.cli import tickets_cli

    app.cli.add_command(menus_cli)
    app.cli.add_command(call_command(create_app, shutdown))  # builds its own app in-process
    app.cli.add_command(db_cli)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(tickets_cli)
    app.cli.add_command(ouvidoria_cli)
    app.cli.add_command(surveys_cli)
    app.cli.add_command(admins_cli)
    from privacy.cli import forget_command, purge_command

    data_cli.add_command(purge_command)
    contacts_cli.add_command(forget_command)


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
