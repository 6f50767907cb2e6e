"""The raw read path (``Database.reading_raw``): connections go back to the pool after use, and
one whose driver failed is discarded rather than handed to the next request."""

from __future__ import annotations

import pytest

from database.session import Database
from tests.database_faults import drop_pooled_connections


def test_a_read_returns_its_connection_to_the_pool(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.reading_raw() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
            cursor.close()
            first = connection.dbapi_connection
        with database.reading_raw() as connection:
            assert connection.dbapi_connection is first  # pooled, not reopened
    finally:
        database.dispose()


def test_a_connection_whose_driver_failed_is_not_reused(database_url: str) -> None:
    database = Database(database_url)
    error = database.read_engine.dialect.loaded_dbapi.Error
    try:
        with pytest.raises(error), database.reading_raw() as connection:
            broken = connection.dbapi_connection
            connection.cursor().execute("SELECT * FROM no_such_table")
        with database.reading_raw() as connection:
            assert connection.dbapi_connection is not broken
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
            cursor.close()
    finally:
        database.dispose()


def test_an_error_of_ours_keeps_the_connection(database_url: str) -> None:
    """Only the driver's errors say the connection may be broken."""
    database = Database(database_url)
    try:
        with pytest.raises(RuntimeError), database.reading_raw() as connection:
            kept = connection.dbapi_connection
            raise RuntimeError("a bug in the caller, not in the connection")
        with database.reading_raw() as connection:
            assert connection.dbapi_connection is kept
    finally:
        database.dispose()


def test_after_the_server_drops_its_connections_one_read_fails_not_one_per_connection(
    database_url: str,
) -> None:
    """A lost server is seen on the first read that meets it; the pool's other idle
    connections, dead too, are dropped with it instead of failing the next reads one by one."""
    database = Database(database_url)
    error = database.read_engine.dialect.loaded_dbapi.Error

    def read() -> bool:
        try:
            with database.reading_raw() as connection:
                cursor = connection.cursor()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                cursor.close()
        except error:
            return False
        return True

    try:
        drop_pooled_connections(database.read_engine, 3)
        assert [read() for _ in range(4)] == [False, True, True, True]
    finally:
        database.dispose()
