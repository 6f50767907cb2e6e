"""Engine and session factory for one database URL.

Services receive a ``Session``; the caller (a view or a CLI command) owns its lifetime, commits or
rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Connections older than this are replaced: servers and proxies drop long-idle ones.
RECYCLE_SECONDS = 1800


def _tune_sqlite(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets gunicorn workers read while one writes; busy_timeout makes writers queue
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Reads of a large table (a million tickets) come straight from the OS page cache, shared
    # by all workers, instead of being copied into each connection's own cache.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """One engine per process (created lazily, so gunicorn forks before connecting)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            # hide_parameters: SQL errors must never carry a CPF or a hash into a log line.
            # No pool_pre_ping: it costs a round trip per request; a connection that died with
            # the server fails once (the caller hears the apology) and the pool is refreshed.
            kwargs: dict[str, object] = {"hide_parameters": True, "pool_recycle": RECYCLE_SECONDS}
            if self.url.startswith("sqlite"):
                kwargs = {"connect_args": {"timeout": 5}, "hide_parameters": True}
            else:
                kwargs["connect_args"] = {"connect_timeout": 3}
            self._engine = create_engine(self.url, **kwargs)
            if self.url.startswith("sqlite"):
                event.listen(self._engine, "connect", _tune_sqlite)
            self._factory = sessionmaker(self._engine, expire_on_commit=False)
        return self._engine

    def session(self) -> Session:
        self.engine  # noqa: B018 - creates the factory on first use
        assert self._factory is not None
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._factory = None
