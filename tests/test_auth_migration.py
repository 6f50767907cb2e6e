"""Migration 0002_auth builds exactly the tables ``auth.models`` describes."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect

from database.migrate import alembic_config, upgrade
from tests.schema import schema_differences

AUTH_TABLES = {"companies", "contacts", "login_attempts", "call_logins", "caller_failures"}


def _differences(url: str) -> list[Any]:
    return schema_differences(url, AUTH_TABLES)


def test_upgraded_schema_matches_the_models(database_url: str) -> None:
    assert _differences(database_url) == []


def test_downgrade_removes_the_auth_tables_and_upgrade_restores_them(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0001_calls")
    engine = create_engine(database_url)
    try:
        assert AUTH_TABLES.isdisjoint(inspect(engine).get_table_names())
        assert "calls" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    upgrade(database_url)
    assert _differences(database_url) == []
