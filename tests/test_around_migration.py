"""Migration 0012 builds the tables the models of reminders, surveys and the ouvidoria describe,
and can be undone without losing the tickets and contacts it added columns to."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from database.migrate import alembic_config, upgrade
from tests.schema import schema_differences

TABLES = {"reminder_calls", "survey_answers", "ouvidoria_contacts", "contacts", "tickets"}


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_the_tables_match_the_models(database_url: str) -> None:
    assert schema_differences(database_url, TABLES) == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0015_password_pepper")
    assert "phone" not in _columns(database_url, "contacts")
    assert "contact_id" not in _columns(database_url, "tickets")
    upgrade(database_url)
    assert schema_differences(database_url, TABLES) == []
