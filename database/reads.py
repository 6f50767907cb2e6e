"""The busiest reads on a driver cursor: a Core select, compiled once per dialect by SQLAlchemy,
run on the cursor of the thread's reading Connection (``Database.reading``).

Going through ``Connection.execute`` cost far more than the read itself on the ticket step:
130 against 220-270 µs a read on PostgreSQL, 9 against 30 µs on SQLite (``scripts/bench.py``
and in-process timing). This runs the SQL SQLAlchemy compiled, with the parameters in the
compiled order and each column's own result processor, so the rows are the ones
``Connection.execute`` returns (a property test holds the two equal). A driver error is raised
as SQLAlchemy's ``DBAPIError``; a lost server also drops the reading pool's other connections,
as SQLAlchemy does for its own executions, and the read is tried once more. Parameters are plain
strings passed as they are (a statement that needs anything else is refused when first compiled).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.exc import DBAPIError

from database.session import Database

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order, for a positional paramstyle
    processors: tuple[Processor, ...]


class FirstRow:
    """``Connection.execute(statement, values).first()`` as a plain tuple, for a hot read."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def __call__(self, database: Database, values: Mapping[str, str]
                 ) -> tuple[Any, ...] | None:
        """The first row, or None. A read that meets a lost connection (a server restart, an
        idle connection a proxy dropped) is tried once more on a fresh one: it changes
        nothing, and the caller should not hear an apology for a connection held idle."""
        try:
            return self._first(database, values)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._first(database, values)

    def _first(self, database: Database, values: Mapping[str, str]) -> tuple[Any, ...] | None:
        with database.reading() as connection:
            compiled = self._for(connection.dialect)
            params: Any = ([values[name] for name in compiled.order]
                           if compiled.order is not None else dict(values))
            dbapi_connection = connection.connection.dbapi_connection
            assert dbapi_connection is not None  # a live Connection holds one
            cursor = None
            try:
                cursor = dbapi_connection.cursor()
                cursor.execute(compiled.sql, params)
                # Every row fetched: SQLite keeps no statement, and so no snapshot, open.
                rows = cursor.fetchall()
            except connection.dialect.loaded_dbapi.Error as error:
                lost = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
                if lost:  # the server went away: its other pooled connections did too
                    connection.invalidate(error)
                    database.reading_engine.dispose()
                raise DBAPIError.instance(compiled.sql, None, error,
                                          connection.dialect.loaded_dbapi.Error,
                                          hide_parameters=True, dialect=connection.dialect,
                                          connection_invalidated=lost) from error
            finally:
                if cursor is not None:
                    try:
                        cursor.close()
                    except connection.dialect.loaded_dbapi.Error:
                        pass  # its connection is gone: nothing to close
        if not rows:
            return None
        return tuple(process(value) if process is not None else value
                     for process, value in zip(compiled.processors, rows[0], strict=True))

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            sql = self.statement.compile(dialect=dialect)
            # Values are passed as the driver takes them: only plain string parameters,
            # without a bind processor or a value written into the statement.
            for name, bind in sql.binds.items():
                if bind.value is not None or bind.callable is not None \
                        or bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                    raise ValueError(f"FirstRow takes plain string parameters only: {name}")
            order = tuple(sql.positiontup) if sql.positional and sql.positiontup else None
            processors = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                               for column in self.statement.selected_columns)
            compiled = self._compiled[key] = _Compiled(str(sql), order, processors)
        return compiled
