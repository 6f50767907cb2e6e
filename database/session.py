"""Engine and session factory for one database URL.

Services receive a ``Session``; the caller (a view or a CLI command) owns its lifetime, commits or
rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from database.readers import HeldReaders

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
        self._read_engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._readers: HeldReaders | None = None
        self._readers_lock = threading.Lock()

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

    def reading_cursor(self) -> AbstractContextManager[Any]:
        """A driver cursor for the busiest reads written out by hand, on a connection held
        between requests (``database.readers``): no pool checkout, no BEGIN or ROLLBACK."""
        readers = self._readers
        if readers is None:
            with self._readers_lock:  # two first reads at once must not make two sets
                if self._readers is None:
                    self._readers = HeldReaders(self.read_engine, RECYCLE_SECONDS)
                readers = self._readers
        return readers.cursor()

    @property
    def dialect_name(self) -> str:
        return self.read_engine.dialect.name

    @property
    def read_engine(self) -> Engine:
        """Connections that stay in autocommit (a pool of their own, so none switches modes)."""
        if self._read_engine is None:
            if self.url.startswith("sqlite"):
                self._read_engine = self.engine  # pysqlite opens no transaction for a SELECT
            else:
                self._read_engine = create_engine(
                    self.url, hide_parameters=True, pool_recycle=RECYCLE_SECONDS,
                    isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3},
                    pool_reset_on_return=None,
                )
        return self._read_engine

    def dispose(self) -> None:
        if self._readers is not None:
            self._readers.close()
            self._readers = None
        if self._read_engine is not None and self._read_engine is not self._engine:
            self._read_engine.dispose()
        self._read_engine = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._factory = None
