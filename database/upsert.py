"""The one way to write an upsert or a counter: the dialect's own ``INSERT ... ON CONFLICT``.

SQLite and PostgreSQL both take ``INSERT ... ON CONFLICT (...) DO UPDATE SET ...`` with the
proposed row as ``excluded``; SQLAlchemy builds it from each dialect's ``insert()``, so callers
write one statement with the typed models and never a dialect's SQL text::

    statement = upsert(session, CallLogin).values(call_sid=sid, failures=1)
    statement = statement.on_conflict_do_update(
        index_elements=[CallLogin.call_sid],
        set_={"failures": CallLogin.failures + 1},
    )
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Upsert = sqlite.Insert | postgresql.Insert


def upsert(bind: Session | Connection, table: Any) -> Upsert:
    """An ``INSERT`` into ``table`` (a model or a Table) that takes ``on_conflict_do_update``,
    for the database ``bind`` (a Session or a Connection) talks to."""
    dialect = bind.dialect.name if isinstance(bind, Connection) else bind.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise RuntimeError(f"upserts support SQLite and PostgreSQL, not {dialect}")
