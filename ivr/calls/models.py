"""The call record an admin reads to see where callers go and where they give up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, UTCDateTime


class Call(Base):
    __tablename__ = "calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_number: Mapped[str | None] = mapped_column(String(64))
    to_number: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Node names walked, comma-separated, as carried in the action URLs.
    path: Mapped[str] = mapped_column(Text, default="", server_default="")
    steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Time of the newest step written: steps from different workers may arrive out of order.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_node: Mapped[str | None] = mapped_column(String(64))
    # transferred | closed | gave_up | retries_exhausted | hung_up | error | ...
    # Not indexed: every step rewrites it, and a time range (started_at) narrows reports first.
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_detail: Mapped[str | None] = mapped_column(String(255))
    final_status: Mapped[str | None] = mapped_column(String(32))
    # "node:status" of a transfer that was not answered (busy, no-answer, failed...): kept when
    # the call goes on to a fallback whose outcome (a voicemail...) replaces "unanswered".
    transfer_result: Mapped[str | None] = mapped_column(String(96))
