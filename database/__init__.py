"""Shared SQLAlchemy plumbing: the declarative base and session handling.

Lives outside ``ivr``, ``auth`` and ``tickets`` so all three can import it without a cycle.
"""

from database.base import Base
from database.session import Database

__all__ = ["Base", "Database"]
