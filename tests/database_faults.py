"""Database faults for tests: what a server restart leaves behind in a connection pool."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, text


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
