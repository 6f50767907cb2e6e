"""What differs between a migrated database and the models, for the named tables only."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from models import metadata


def schema_differences(url: str, tables: set[str], *, server_defaults: bool = True) -> list[Any]:
    """``server_defaults=False`` where SQLite's reflection cannot tell ``''`` from no default."""
    def include(obj: Any, name: str | None, type_: str, *_: object) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in tables

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": include, "compare_type": True,
                      "compare_server_default": server_defaults},
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()
