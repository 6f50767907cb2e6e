"""``flask --app app data import FILE.json``."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from database.flask_ext import get_db
from importer.errors import ImportRejected
from importer.run import import_data, load_import_file


def database_problem(error: SQLAlchemyError) -> str:
    """The driver's own message only: SQLAlchemy's text would repeat the statement's values."""
    cause = getattr(error, "orig", None) or error
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"database error: {first_line}"


def fail(lines: list[str]) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    raise click.exceptions.Exit(1)


@click.group("data", help="Load companies, contacts, specialists and tickets.")
def data_cli() -> None:
    pass


@data_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Upsert the records of FILE (JSON) in one transaction: all of them or none."""
    try:
        payload = load_import_file(file)
        report = import_data(get_db(), payload,
                             sections=current_app.extensions["import_sections"],
                             rounds=int(current_app.config["BCRYPT_ROUNDS"]))
    except ImportRejected as rejected:
        fail([*rejected.problems, f"{file}: refused, nothing was imported"])
    except SQLAlchemyError as error:
        fail([database_problem(error), f"{file}: nothing was imported"])
    for line in report.lines():
        click.echo(line)
