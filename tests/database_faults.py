"""Database faults for tests: what a server restart leaves behind in a connection pool."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, text

from database.session import Database


def drop_pooled_connections(engine: Engine, count: int) -> None:
    """Leave ``count`` dead connections idle in the engine's pool, as a database restart does:
    on PostgreSQL the server ends their backends; SQLite has no server, so the driver
    connections are closed as they go back to the pool."""
    held = [engine.connect() for _ in range(count)]
    if engine.dialect.name == "postgresql":
        backends = [one.exec_driver_sql("SELECT pg_backend_pid()").scalar() for one in held]
        for connection in held:
            connection.close()
        terminate_backends(engine.url, backends)
        return

    def close_driver(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.close()

    event.listen(engine, "checkin", close_driver)
    try:
        for connection in held:
            connection.close()
    finally:
        event.remove(engine, "checkin", close_driver)


def terminate_backends(url: str | URL, backends: Iterable[object]) -> None:
    """End these PostgreSQL server processes, as a server restart does."""
    killer = create_engine(url)
    with killer.begin() as connection:
        for pid in backends:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def restart(database: Database) -> None:
    """What a database restart does to the app's connections: the pooled ones of both engines
    die, and so does the reading Connection this thread holds."""
    with database.reading() as held:
        if held.dialect.name == "postgresql":
            backend = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        else:
            held.connection.dbapi_connection.close()  # type: ignore[union-attr]
            backend = None
    if backend is not None:
        terminate_backends(database.engine.url, [backend])
    drop_pooled_connections(database.engine, 3)
    if database.reading_engine is not database.engine:
        drop_pooled_connections(database.reading_engine, 2)
