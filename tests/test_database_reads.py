"""The held read path (``Database.reading_cursor``): a reader keeps its connection and cursor
between reads, one whose driver failed is discarded rather than handed to the next read, and a
lost server costs one read, not one per connection."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from sqlalchemy import text

from database.readers import MAX_IDLE
from database.session import Database
from tests.database_faults import drop_pooled_connections, terminate_backends


def _backend(cursor: Any) -> object:
    """Who answers this cursor: the server process on PostgreSQL, the driver connection's
    address on SQLite (the same in a forked child when it is the parent's)."""
    if cursor.connection.__class__.__module__.startswith("psycopg"):
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchall()[0][0]
    return id(cursor.connection)


def _closed(cursor: Any) -> bool:
    try:
        cursor.execute("SELECT 1")
        cursor.fetchall()
    except Exception:
        return True
    return False


@pytest.fixture
def database(database_url: str) -> Any:
    database = Database(database_url)
    yield database
    database.dispose()


def test_reads_reuse_one_connection_and_cursor(database: Database) -> None:
    with database.reading_cursor() as cursor:
        first_cursor, first_backend = cursor, _backend(cursor)
    with database.reading_cursor() as cursor:
        assert cursor is first_cursor
        assert _backend(cursor) == first_backend
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
    # Held, so the pool itself has nothing idle: no checkout per read.
    assert database.read_engine.pool.checkedout() == 1
    if database.dialect_name == "postgresql":
        # Held between requests, but never idle in a transaction (autocommit).
        assert cursor.connection.info.transaction_status.name == "IDLE"


def test_a_reader_whose_driver_failed_is_not_reused(database: Database) -> None:
    error = database.read_engine.dialect.loaded_dbapi.Error
    with pytest.raises(error), database.reading_cursor() as cursor:
        broken = cursor
        cursor.execute("SELECT * FROM no_such_table")
    with database.reading_cursor() as cursor:
        assert cursor is not broken
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
    assert database.read_engine.pool.checkedout() == 1  # the broken one went back, discarded


def test_an_error_of_ours_keeps_the_connection_but_not_the_cursor(database: Database) -> None:
    """Only the driver's errors say the connection may be broken; but the statement may have
    been left part-read, so the cursor is closed and the connection goes back to the pool."""
    with pytest.raises(RuntimeError), database.reading_cursor() as cursor:
        left = cursor
        backend = _backend(cursor)
        cursor.execute("SELECT 1 UNION ALL SELECT 2")
        cursor.fetchone()
        raise RuntimeError("a bug in the caller, not in the connection")
    assert _closed(left)
    assert database.read_engine.pool.checkedout() == 0
    with database.reading_cursor() as cursor:
        assert _backend(cursor) == backend  # the same connection, from the pool


def test_reads_at_the_same_time_get_their_own_readers(database: Database) -> None:
    inside = threading.Barrier(2, timeout=10)
    seen: list[object] = []

    def read() -> None:
        with database.reading_cursor() as cursor:
            seen.append(_backend(cursor))
            inside.wait()  # both readers are out at once

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 2
    # Both came back and are reused: no third connection for the next two reads.
    with database.reading_cursor() as one, database.reading_cursor() as two:
        assert {_backend(one), _backend(two)} == set(seen)


def test_an_old_reader_is_replaced(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with database.reading_cursor() as cursor:
        old = cursor
    readers = database._readers
    assert readers is not None
    monkeypatch.setattr(readers, "recycle_seconds", 0.0)
    with database.reading_cursor() as cursor:
        assert cursor is not old
    assert database.read_engine.pool.checkedout() == 1  # the old one went back to the pool


def test_dispose_closes_held_readers_even_one_in_use(database: Database) -> None:
    with database.reading_cursor() as first, database.reading_cursor() as second:
        pass  # two readers held
    with database.reading_cursor() as out:
        idle = second if out is first else first
        connection = out.connection
        database.dispose()  # (a worker exiting while a read is under way elsewhere)
        assert _closed(idle)
        assert not _closed(out)  # the read under way finishes on it...
    assert _closed(out)  # ...and it is closed when it comes back, not kept
    assert _driver_closed(connection)  # nor checked in to the pool that is gone


def test_a_read_entered_after_dispose_keeps_nothing(database: Database) -> None:
    pending = database.reading_cursor()  # (asked for just before the worker exits)
    database.dispose()
    with pending as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
        connection = cursor.connection
    assert _driver_closed(connection)


def test_idle_readers_are_few_so_writes_keep_their_connections(database: Database) -> None:
    """A threaded server's many overlapping reads must not leave the pool (on SQLite the
    writes' pool too) held by idle readers."""
    with (database.reading_cursor(), database.reading_cursor(), database.reading_cursor(),
          database.reading_cursor()):
        pass
    assert database.read_engine.pool.checkedout() == MAX_IDLE


def test_a_forked_child_reads_on_its_own_connection(database: Database) -> None:
    """Two processes talking over one connection would read each other's answers. A real fork:
    the child reports which connection answered it, and the parent's still works after."""
    with database.reading_cursor() as cursor:
        parents = _backend(cursor)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report, then leave without running the parent's clean-up
        try:
            with database.reading_cursor() as cursor:
                answer = f"{_backend(cursor)} {_backend(cursor) == parents}"
        except BaseException as error:
            answer = f"error {error!r}"
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end) as report:
        answer = report.read()
    assert answer.endswith(" False"), answer  # not the parent's connection
    with database.reading_cursor() as cursor:
        assert _backend(cursor) == parents
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]


def test_a_held_sqlite_reader_sees_later_writes(database: Database) -> None:
    """A held reader keeps no snapshot between reads: a row written after one read is seen
    by the next (and a SQLite checkpoint is not held back)."""
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE held_reads (n INTEGER)"))
    try:
        with database.reading_cursor() as cursor:
            cursor.execute("SELECT count(*) FROM held_reads")
            assert cursor.fetchall() == [(0,)]
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO held_reads VALUES (1)"))
        with database.reading_cursor() as cursor:
            cursor.execute("SELECT count(*) FROM held_reads")
            assert cursor.fetchall() == [(1,)]
        if database.dialect_name == "sqlite":
            with database.engine.connect() as connection:
                busy, _, _ = connection.exec_driver_sql(
                    "PRAGMA wal_checkpoint(TRUNCATE)").one()
            assert busy == 0  # no reader pinned the WAL
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("DROP TABLE held_reads"))


def test_after_the_server_drops_its_connections_one_read_fails_not_one_per_connection(
    database: Database,
) -> None:
    """A lost server is seen on the first read that meets it; the other idle connections, dead
    too, are dropped with it instead of failing the next reads one by one."""
    drop_pooled_connections(database.read_engine, 3)
    assert [_read_succeeds(database) for _ in range(4)] == [False, True, True, True]


def test_a_lost_server_drops_the_idle_held_readers_too(database: Database) -> None:
    """Readers held between requests die with the server like pooled connections do."""
    # Readers held idle (reads that overlapped once).
    with database.reading_cursor(), database.reading_cursor():
        pass
    readers = database._readers
    assert readers is not None and len(readers._idle) == MAX_IDLE
    _kill_held(database)
    assert [_read_succeeds(database) for _ in range(4)] == [False, True, True, True]


def test_a_reader_out_when_the_server_was_lost_is_not_kept(database: Database) -> None:
    """Another thread's reader, out while a read met the lost server, is dead too: it is
    closed when it comes back, not checked in for the next read to fail on."""
    with database.reading_cursor(), database.reading_cursor():
        pass  # two readers idle
    with database.reading_cursor() as out:  # one out, one idle
        connection = out.connection
        _kill_held(database, out)
        assert not _read_succeeds(database)  # this read meets the lost server
    # Closed, not checked in (on SQLite the test closed it itself: PostgreSQL tells).
    assert _driver_closed(connection)
    assert [_read_succeeds(database) for _ in range(3)] == [True, True, True]


def _read_succeeds(database: Database) -> bool:
    try:
        with database.reading_cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except database.read_engine.dialect.loaded_dbapi.Error:
        return False
    return True


def _kill_held(database: Database, *out: Any) -> None:
    """What a server restart does to the connections of the idle readers and of the cursors
    ``out``."""
    readers = database._readers
    assert readers is not None
    cursors = [reader.cursor for reader in readers._idle] + list(out)
    if database.dialect_name == "postgresql":
        terminate_backends(database.url, [_backend(cursor) for cursor in cursors])
        return
    for cursor in cursors:
        cursor.connection.close()


def _driver_closed(connection: Any) -> bool:
    """Whether the driver connection itself is closed (not merely checked in somewhere)."""
    closed = getattr(connection, "closed", None)
    if closed is not None:  # psycopg
        return bool(closed)
    try:  # sqlite3
        connection.execute("SELECT 1")
    except Exception:
        return True
    return False
