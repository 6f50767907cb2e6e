"""Engine and session factory for one database URL.

Services receive a ``Session``; the caller (a view or a CLI command) owns its lifetime, commits or
rolls back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
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
        self._read_engine: Engine | None = None
        self._held = threading.local()  # each thread's reading Connection

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

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection outside any transaction, for reads and for the call records' one-statement
        writes: one round trip a statement on PostgreSQL (no BEGIN, no COMMIT).

        Each thread keeps its reading Connection between requests: checking one out of the pool
        and back in cost as much as the ticket step's query itself (see ``scripts/bench.py``).
        It is replaced after ``RECYCLE_SECONDS``, as the pool replaces its own (servers and
        proxies drop long-idle connections). A read that fails gives it up, and the next read
        takes a fresh one from the pool.
        """
        connection: Connection | None = getattr(self._held, "connection", None)
        opened: float = getattr(self._held, "opened", 0.0)
        if connection is not None and time.monotonic() - opened > RECYCLE_SECONDS:
            connection.close()
            connection = None
        if connection is None or connection.closed or connection.invalidated:
            connection = self._held.connection = self.reading_engine.connect()
            self._held.opened = time.monotonic()
        try:
            yield connection
        except BaseException:
            self._held.connection = None
            connection.close()
            raise

    @property
    def reading_engine(self) -> Engine:
        """The engine of ``reading()``."""
        # SQLite's driver opens no transaction for a SELECT: its one engine serves. On
        # PostgreSQL the connections that stay in autocommit have a pool of their own, so none
        # switches modes at each checkout. Their only writes are the call records' batches,
        # one statement each.
        if self._read_engine is None:
            if self.url.startswith("sqlite"):
                self._read_engine = self.engine
            else:
                self._read_engine = create_engine(
                    self.url, hide_parameters=True, pool_recycle=RECYCLE_SECONDS,
                    isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        return self._read_engine

    def dispose(self) -> None:
        held: Connection | None = getattr(self._held, "connection", None)
        if held is not None:  # this thread's; another thread's goes with the pool's disposal
            held.close()
        self._held = threading.local()
        if self._read_engine is not None and self._read_engine is not self._engine:
            self._read_engine.dispose()
        self._read_engine = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._factory = None
