"""The raw read path (``Database.reading_raw``): connections go back to the pool after use, and
one that raised is discarded rather than handed to the next request."""

from __future__ import annotations

import pytest

from database.session import Database


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


def test_a_connection_that_raised_is_not_reused(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(RuntimeError), database.reading_raw() as connection:
            broken = connection.dbapi_connection
            raise RuntimeError("the driver failed mid-read")
        with database.reading_raw() as connection:
            assert connection.dbapi_connection is not broken
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
            cursor.close()
    finally:
        database.dispose()
