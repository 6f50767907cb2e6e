"""Ouvidoria contacts: who called it, about which earlier ticket, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

import tickets.models  # noqa: F401 - registers tickets and contacts, which the keys name
from database.base import Base, UTCDateTime


class OuvidoriaContact(Base):
    __tablename__ = "ouvidoria_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)  # one contact a call
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # transferred | unanswered | message | no_message | no_ticket
    outcome: Mapped[str] = mapped_column(String(16))
    # The message left outside hours (the provider's recording), personal data a purge may clear.
    recording_url: Mapped[str | None] = mapped_column(String(1024))
