"""Every table of the app in one ``MetaData``, for Alembic (``migrations/env.py``) and the tests.

Importing each package's models registers its tables on the shared declarative base; this is the
one place that lists them. It lives above ``database``, which imports nothing of the app.
"""

from admin import models as _admin  # noqa: F401
from auth import models as _auth  # noqa: F401
from auth import pending as _pending  # noqa: F401
from database.base import Base
from ivr.calls import models as _calls  # noqa: F401
from tickets import models as _tickets  # noqa: F401

metadata = Base.metadata
