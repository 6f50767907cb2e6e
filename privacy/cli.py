"""``flask --app app data purge`` and ``flask --app app contacts forget CPF``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from auth.documents import cpf_problem, mask_cpf, normalize_document
from database.flask_ext import get_db
from importer.cli import database_problem, fail
from privacy import rules


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete what is older than the retention settings (RETENTION_*_DAYS) and rows past
    their use; one line per kind. Safe to run daily from cron or a timer."""
    try:
        with get_db().transaction() as session:
            done = rules.purge(session, current_app.extensions["purges"],
                               current_app.config["RETENTION_DAYS"],
                               current_app.config["CLOCK"]())
    except SQLAlchemyError as error:
        fail([database_problem(error), "nothing was purged"])
    for outcome in done:
        click.echo(outcome.line())


@click.command("forget")
@click.argument("cpf")
@with_appcontext
def forget_command(cpf: str) -> None:
    """Erase the personal data of the contact with CPF (LGPD): the contact, and their numbers,
    recordings and logins in call records, keeping only anonymous counts. Running it again
    changes nothing."""
    problem = cpf_problem(cpf)
    if problem is not None:
        fail([f"{mask_cpf(cpf)} is not a valid CPF: {problem}; nothing was erased"])
    try:
        with get_db().transaction() as session:
            done = rules.forget(session, current_app.extensions["erasures"],
                                normalize_document(cpf))
    except SQLAlchemyError as error:
        fail([database_problem(error), "nothing was erased"])
    for outcome in done:
        click.echo(outcome.line())
    total = sum(outcome.rows for outcome in done)
    click.echo(f"{mask_cpf(cpf)}: " + ("erased" if total else "nothing left to erase"))
