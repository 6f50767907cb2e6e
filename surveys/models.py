"""Survey answers: one per call, with what the caller had been talking about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

import tickets.models  # noqa: F401 - registers tickets and specialists, which the keys name
from database.base import Base, UTCDateTime


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One answer a call: a replayed key rewrites it instead of adding another.
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # When the score was keyed: exports and the retention purge select by it.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    score: Mapped[int] = mapped_column(Integer)
    # The menu's node of the team that answered (educacional...), or of the ticket's area.
    team: Mapped[str | None] = mapped_column(String(48))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"))
    # The optional spoken comment (the provider's recording), personal data a purge may clear.
    comment_url: Mapped[str | None] = mapped_column(String(1024))
    comment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
