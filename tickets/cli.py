"""``flask tickets ...``: jobs on tickets (registered by the app factory)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from database.flask_ext import get_db
from tickets.service import expire_overdue


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
