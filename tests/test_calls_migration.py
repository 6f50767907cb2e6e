"""The calls and call_steps tables the migrations build are the ones ``ivr.calls.models``
describes, and migrations 0005 and 0009 can be undone."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect

from database.migrate import alembic_config, upgrade
from tests.schema import schema_differences


def _differences(url: str) -> list[Any]:
    # calls.path defaults to '', which Alembic misreads on SQLite as a changed default.
    return schema_differences(url, {"calls"}, server_defaults=False)


def _indexed_columns(url: str) -> set[str | None]:
    engine = create_engine(url)
    try:
        return {column for index in inspect(engine).get_indexes("calls")
                for column in index["column_names"]}
    finally:
        engine.dispose()


def test_upgraded_calls_table_matches_the_model(database_url: str) -> None:
    assert _differences(database_url) == []
    assert _indexed_columns(database_url) == {"started_at"}


def test_downgrade_restores_the_outcome_index_and_upgrade_drops_it_again(
    database_url: str,
) -> None:
    command.downgrade(alembic_config(database_url), "0004_pending_logins")
    assert _indexed_columns(database_url) == {"started_at", "outcome"}
    upgrade(database_url)
    assert _differences(database_url) == []
    assert _indexed_columns(database_url) == {"started_at"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_call_steps_table_matches_the_model_and_goes_with_a_downgrade(database_url: str) -> None:
    assert schema_differences(database_url, {"call_steps"}) == []
    command.downgrade(alembic_config(database_url), "0010b_call_rollups")
    assert "call_steps" not in _tables(database_url)
    upgrade(database_url)
    assert schema_differences(database_url, {"call_steps"}) == []
