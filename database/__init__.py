"""Shared SQLAlchemy plumbing: the declarative base, session handling, migrations and the one
upsert helper (``database.upsert``).

Lives outside ``ivr``, ``auth`` and ``tickets`` so all three can import it without a cycle, and
imports none of them (the list of every table is the top-level ``models``).
"""

from database.base import Base
from database.session import Database

__all__ = ["Base", "Database"]
