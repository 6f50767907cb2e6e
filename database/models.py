"""Imports every package's models so ``metadata`` holds all tables (for Alembic and tests)."""

from database.base import Base
from ivr.calls import models as _calls  # noqa: F401

try:  # the packages below register their tables when present
    from auth import models as _auth  # noqa: F401
except ImportError:  # pragma: no cover - only while a package is being built
    pass
try:
    from tickets import models as _tickets  # noqa: F401
except ImportError:  # pragma: no cover
    pass

metadata = Base.metadata
