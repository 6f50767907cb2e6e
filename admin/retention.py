"""The console's personal data under ``data purge`` (``privacy``): its login attempts (user
names and addresses) are kept ``RETENTION_LOGINS_DAYS``, as the phone logins are. Admins are
not contacts: ``contacts forget`` has nothing here."""

from __future__ import annotations

from sqlalchemy import delete

from admin.models import AdminLogin
from privacy.rules import Erasure, Purge, changed

PURGES = [
    Purge("console login attempts", lambda session, cutoff: changed(
        session, delete(AdminLogin).where(AdminLogin.at < cutoff)), retention="logins"),
]
ERASURES: list[Erasure] = []
