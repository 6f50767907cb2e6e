"""``flask --app app contacts set-password CPF`` and ``contacts unlock CPF``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from auth import service
from auth.documents import cpf_problem, mask_cpf
from auth.errors import ContactAdminError
from auth.models import utc_now
from database.flask_ext import get_db
from importer.cli import database_problem, fail


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """Prompted twice, hidden, on a terminal; otherwise the first line of stdin (for scripts)."""
    if _stdin_is_tty():
        return str(
            click.prompt(
                "New phone password (4 to 12 digits)", hide_input=True, confirmation_prompt=True
            )
        )
    return sys.stdin.readline().strip()


@click.group("contacts", help="Contacts who may call: phone passwords and lockouts.")
def contacts_cli() -> None:
    pass


@contacts_cli.command("set-password")
@click.argument("cpf")
@with_appcontext
def set_password_command(cpf: str) -> None:
    """Set the phone password of the contact with CPF (also clears a lock)."""
    problem = cpf_problem(cpf)
    if problem is not None:  # before asking for a password that could not be used
        fail([f"{mask_cpf(cpf)} is not a valid CPF: {problem}"])
    password = _read_password()
    try:
        with get_db().transaction() as session:
            service.set_password(
                session, cpf, password, now=utc_now(),
                rounds=int(current_app.config["BCRYPT_ROUNDS"]),
                pepper=current_app.config["PASSWORD_PEPPER"],
            )
    except ContactAdminError as error:
        fail([str(error)])
    except SQLAlchemyError as error:
        fail([database_problem(error)])
    click.echo(f"password set for {mask_cpf(cpf)}")


@contacts_cli.command("unlock")
@click.argument("cpf")
@with_appcontext
def unlock_command(cpf: str) -> None:
    """Clear the failed logins and the lock of the contact with CPF."""
    try:
        with get_db().transaction() as session:
            service.unlock(session, cpf)
    except ContactAdminError as error:
        fail([str(error)])
    except SQLAlchemyError as error:
        fail([database_problem(error)])
    click.echo(f"{mask_cpf(cpf)} unlocked")
