"""Migration 0002_auth builds exactly the tables ``auth.models`` describes."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from database.migrate import alembic_config, upgrade
from database.models import metadata

AUTH_TABLES = {"companies", "contacts", "login_attempts", "call_logins", "caller_failures"}


def _is_auth_object(obj: Any, name: str | None, type_: str, *_: object) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) in AUTH_TABLES


def _differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": _is_auth_object, "compare_type": True,
                      "compare_server_default": True},
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


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
