"""``flask surveys export``: the survey's answers as CSV, for the quality team's spreadsheet."""

from __future__ import annotations

import csv
import sys

import click
from flask.cli import with_appcontext

from database.flask_ext import get_db
from ivr.period import Period, period_options
from surveys.service import EXPORT_COLUMNS, exported


@click.group("surveys")
def surveys_cli() -> None:
    """Satisfaction survey answers."""


@surveys_cli.command("export")
@period_options
@with_appcontext
def export_command(period: Period) -> None:
    """Answers of the period as CSV on standard output, a header row first (times in UTC)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    with get_db().transaction() as session:
        writer.writerows(exported(session, period))
