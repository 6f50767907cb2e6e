"""``flask ouvidoria list``: the ouvidoria's contacts, for the people who answer them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from database.flask_ext import get_db
from ivr.period import Period, local_time, period_options
from ouvidoria.service import listed


@click.group("ouvidoria")
def ouvidoria_cli() -> None:
    """The ouvidoria's contacts."""


@ouvidoria_cli.command("list")
@period_options
@with_appcontext
def list_command(period: Period) -> None:
    """One line per contact, oldest first: when (São Paulo time), CPF masked, ticket, outcome."""
    with get_db().transaction() as session:
        for contact in listed(session, period):
            click.echo(f"{local_time(contact.at)}  {contact.masked_cpf}  {contact.ticket}  "
                       f"{contact.outcome}")
