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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection

# Idle readers kept at most: one per sync worker is all it takes; a threaded server's other
# readers go back to the pool, which on SQLite the writes share.
MAX_IDLE = 2


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
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # Bumped by close() and by a lost server: readers out at that moment are retired when
        # they come back instead of being kept.
        self._generation = 0
        self._closed = False
        # A forked child's inheritance from its parent, kept referenced and never used or
        # closed: collecting it would hand the parent's connections back to the child's pool.
        self._parents: list[_Reader] = []
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A driver cursor, outside any transaction on PostgreSQL (autocommit connections).

        The caller fetches every row it asked for: a SQLite statement left part-read would pin
        its snapshot between requests. After a driver error the reader is discarded (its
        connection may be the one that broke), and after a lost server every idle one with it;
        the error goes on up. After any other error the connection goes back to the pool with
        its cursor closed, since the statement may have been left part-read.
        """
        reader = self._take()
        try:
            yield reader.cursor
        except self._driver_error as error:
            self._discard(reader.connection, error)
            raise
        except BaseException:
            _close(reader)
            raise
        self._give_back(reader)

    def close(self) -> None:
        """Close the idle readers now, and those out now when they come back."""
        with self._lock:
            self._closed = True
            self._generation += 1
            idle, self._idle = self._idle, []
        for reader in idle:
            _close(reader)

    def _take(self) -> _Reader:
        if self._pid != os.getpid():
            self._forked()
        while True:
            with self._lock:
                reader = self._idle.pop() if self._idle else None
            if reader is None:
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

    def _forked(self) -> None:
        # Two processes talking over one connection read each other's answers. SQLAlchemy's
        # recipe for a fork: forget the parent's pooled connections without closing them.
        with self._lock:
            self._pid = os.getpid()
            self._parents += self._idle
            self._idle = []
            self._generation += 1
        self.engine.dispose(close=False)

    def _give_back(self, reader: _Reader) -> None:
        with self._lock:
            keep = (reader.generation == self._generation and not self._closed
                    and len(self._idle) < MAX_IDLE)
            if keep:
                self._idle.append(reader)
        if keep:
            return
        if reader.generation != self._generation or self._closed:
            # Out during close() or a lost server: its connection may be dead, or belong to a
            # pool that is gone. Closed for good rather than checked in.
            reader.connection.invalidate()
        else:
            _close(reader)

    def _discard(self, connection: PoolProxiedConnection, error: Exception) -> None:
        if self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None):
            # The server went away: every connection opened before now is as dead as this
            # one. As SQLAlchemy's Connection does, the pool replaces them all as they are next
            # checked out; the idle readers, which are not checked out again, go now.
            with self._lock:
                self._generation += 1
                idle, self._idle = self._idle, []
            for other in idle:
                other.connection.invalidate(error)
            self.engine.pool._invalidate(connection, error)
            return
        connection.invalidate(error)


def _close(reader: _Reader) -> None:
    try:
        reader.cursor.close()
    finally:
        reader.connection.close()
