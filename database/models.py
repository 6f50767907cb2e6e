"""Imports every package's models so ``metadata`` holds all tables (for Alembic and tests)."""

from auth import models as _auth  # noqa: F401
from auth import pending as _pending  # noqa: F401
from database.base import Base
from ivr.calls import models as _calls  # noqa: F401
from tickets import models as _tickets  # noqa: F401

metadata = Base.metadata
