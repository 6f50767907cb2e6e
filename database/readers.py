"""Read connections held between requests, each with its cursor, for the busiest reads.

Checking a connection out of SQLAlchemy's pool and back in, and opening a driver cursor, cost
more than a ticket's indexed read itself: holding them took a ticket step from 1.52 to 1.40
million instructions (callgrind, PostgreSQL). So a reader keeps its connection checked out and
its cursor open between requests, as Django's persistent connections do: a sync worker reuses
one reader for its whole life. Connections still come from the pool (dialect set-up, pool
events), and go back to it when a reader is recycled, discarded or closed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection


@dataclass
class _Reader:
    connection: PoolProxiedConnection
    cursor: Any  # the driver's cursor
    opened: float  # time.monotonic()
    generation: int


class HeldReaders:
    """Idle readers of one engine, taken by one read at a time (any thread) and given back."""

    def __init__(self, engine: Engine, recycle_seconds: float) -> None:
        self.engine = engine
        self.recycle_seconds = recycle_seconds
        self._idle: list[_Reader] = []
        self._pid = os.getpid()
        # Readers out in another thread when close() runs are closed when they come back.
        self._generation = 0
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A driver cursor, outside any transaction on PostgreSQL (autocommit connections).

        The caller fetches every row it asked for: a SQLite statement left part-read would pin
        its snapshot between requests. After a driver error the reader is discarded (its
        connection may be the one that broke), and after a lost server every idle one with it;
        the error goes on up. Any other error keeps the reader.
        """
        reader = self._take()
        try:
            yield reader.cursor
        except self._driver_error as error:
            self._discard(reader.connection, error)
            raise
        except BaseException:
            self._give_back(reader)
            raise
        self._give_back(reader)

    def close(self) -> None:
        """Close the idle readers and those out now when they come back."""
        self._generation += 1
        idle, self._idle = self._idle, []
        for reader in idle:
            _close(reader)

    def _take(self) -> _Reader:
        if self._pid != os.getpid():
            # A forked child must not talk over its parent's connections (nor close them).
            self._pid, self._idle = os.getpid(), []
        while True:
            try:
                reader = self._idle.pop()  # atomic: two threads never take the same reader
            except IndexError:
                break
            if time.monotonic() - reader.opened < self.recycle_seconds:
                return reader
            _close(reader)  # back to the pool, which recycles the connection
        connection = self.engine.raw_connection()
        try:
            # SQLite's driver already fails here on a connection that died in the pool.
            cursor = connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        except self._driver_error as error:
            self._discard(connection, error)
            raise
        except BaseException:
            connection.close()
            raise
        return _Reader(connection, cursor, time.monotonic(), self._generation)

    def _give_back(self, reader: _Reader) -> None:
        if reader.generation == self._generation and self._pid == os.getpid():
            self._idle.append(reader)
        else:
            _close(reader)

    def _discard(self, connection: PoolProxiedConnection, error: Exception) -> None:
        if self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None):
            # The server went away: every idle connection is as dead as this one. Drop them
            # all at once, as SQLAlchemy's Connection does, so that the next reads do not fail
            # one stale connection at a time.
            self._generation += 1
            idle, self._idle = self._idle, []
            for other in idle:
                other.connection.invalidate(error)
            self.engine.pool.dispose()
        connection.invalidate(error)


def _close(reader: _Reader) -> None:
    try:
        reader.cursor.close()
    finally:
        reader.connection.close()
