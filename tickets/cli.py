"""``flask tickets ...``: jobs on tickets (registered by the app factory)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from database.flask_ext import get_db
from tickets.outbound import OutboundCalls, OutboundSettings
from tickets.reminders import place_due
from tickets.service import expire_overdue

log = logging.getLogger(__name__)


def _parse_now(_ctx: click.Context, _param: click.Parameter, raw: str | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise click.BadParameter("must be an ISO 8601 date and time") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("must carry a UTC offset, e.g. 2026-12-06T00:00:00-03:00")
    return moment


@click.group("tickets")
def tickets_cli() -> None:
    """Support tickets."""


@tickets_cli.command("expire")
@click.option(
    "--now",
    metavar="DATETIME",
    callback=_parse_now,
    help="Take this instant as the current time (ISO 8601 with offset); default: the clock.",
)
@with_appcontext
def expire_command(now: datetime) -> None:
    """Record the automatic closing of every solution whose acceptance deadline has passed."""
    with get_db().transaction() as session:
        closed = expire_overdue(session, now)
    click.echo(f"{closed} ticket(s) closed automatically (deadline passed).")


@tickets_cli.command("remind")
@click.option(
    "--now",
    metavar="DATETIME",
    callback=lambda ctx, param, raw: None if raw is None else _parse_now(ctx, param, raw),
    help="Take this instant as the current time (ISO 8601 with offset); default: the app's "
         "clock (IVR_FROZEN_TIME, or the real one).",
)
@with_appcontext
def remind_command(now: datetime | None) -> None:
    """Place the reminder calls that are due and record automatic closings (safe to run every
    few minutes, from several machines at once)."""
    now = now or current_app.config["CLOCK"]()
    database = get_db()
    with database.transaction() as session:
        closed = expire_overdue(session, now)
    settings = OutboundSettings.from_config(current_app.config)
    if isinstance(settings, str):
        log.warning("reminder calls skipped: %s not set", settings)
    else:
        menu = current_app.extensions["menu_registry"].current()
        with current_app.test_request_context():  # paths of this app's routes, outside a request
            status_path = url_for("ivr.status")
            answer_path = url_for("reminders.answered", r=0).removesuffix("0")
        for line in place_due(database, menu, now, OutboundCalls(settings),
                              lambda reminder_id: f"{answer_path}{reminder_id}", status_path):
            click.echo(line)
    if closed:
        click.echo(f"{closed} ticket(s) closed automatically (deadline passed).")
