"""``flask --app app admins create USERNAME [--password-stdin]``, ``admins unlock USERNAME``
and ``admins rollup``."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from admin.accounts import AccountError, create_admin, password_problem, unlock
from admin.rollups import roll_up
from auth.models import utc_now
from database.flask_ext import get_db
from importer.cli import database_problem, fail

admins_cli = click.Group("admins", help="Accounts of the /admin/ console.")


@admins_cli.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the password once, from the first line of standard input.")
@with_appcontext
def create_command(username: str, password_stdin: bool) -> None:
    """Create the admin USERNAME; the password is asked twice on the terminal."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                value_proc=lambda value: _checked(value, username))
    try:
        with get_db().transaction() as session:
            account = create_admin(session, username, password, now=utc_now(),
                                   rounds=int(current_app.config["BCRYPT_ROUNDS"]))
    except AccountError as error:
        fail([str(error)])
    except SQLAlchemyError as error:
        fail([database_problem(error)])
    click.echo(f"admin {account.username!r} created")
    if not current_app.config.get("SECRET_KEY"):
        click.echo("Set SECRET_KEY before the server starts again: it refuses to start without "
                   "one once an admin exists.", err=True)


def _checked(value: str, username: str) -> str:
    """Asked again on the terminal rather than refused after the confirmation."""
    problem = password_problem(value, username.strip().lower())
    if problem is not None:
        raise click.BadParameter(problem)
    return value


@admins_cli.command("unlock")
@click.argument("username")
@with_appcontext
def unlock_command(username: str) -> None:
    """Clear the failed logins and the lock of the admin USERNAME."""
    try:
        with get_db().transaction() as session:
            was_locked = unlock(session, username, now=current_app.config["CLOCK"]())
    except AccountError as error:
        fail([str(error)])
    except SQLAlchemyError as error:
        fail([database_problem(error)])
    name = username.strip().lower()
    click.echo(f"admin {name!r} unlocked" if was_locked
               else f"admin {name!r} was not locked; its failed logins are cleared")


@admins_cli.command("rollup")
@with_appcontext
def rollup_command() -> None:
    """Count the finished days' calls for the console's reports (run daily from a timer)."""
    started = time.monotonic()
    try:
        days = roll_up(get_db(), current_app.config["CLOCK"]())
    except SQLAlchemyError as error:
        fail([database_problem(error)])
    took = time.monotonic() - started
    if days:
        click.echo(f"{len(days)} day(s) rolled up, {days[0]} to {days[-1]}, in {took:.1f} s")
    else:
        click.echo("nothing to roll up: every finished day is counted")
