"""The call record an admin reads to see where callers go and where they give up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, SmallInteger, String, Text, text
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


START_STEP = "ivr.incoming"  # the endpoint of a call's first webhook


class CallStep(Base):
    """Every webhook of a call, with the caller's keys, so ``menus diff`` can replay the call
    through another menu (``ivr.replay``). Never the digits of a CPF, a password or any other
    entry of more than one key: those keep only how many keys were pressed."""

    __tablename__ = "call_steps"
    # The last calls, by their first steps: a partial index, so the other steps (most of the
    # writes) skip it.
    __table_args__ = (
        Index("ix_call_steps_starts", "seq", sqlite_where=text(f"step = '{START_STEP}'"),
              postgresql_where=text(f"step = '{START_STEP}'")),
    )

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Real-clock microseconds when the step was answered: a call's steps come one after another,
    # from any worker, so this orders them (the app's clock may be frozen).
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(64))
    input_kind: Mapped[str] = mapped_column(String(8))  # dtmf | speech | none
    keys: Mapped[str | None] = mapped_column(String(8))
    key_count: Mapped[int] = mapped_column(SmallInteger)
    result: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_detail: Mapped[str | None] = mapped_column(String(255))
    # Words said at a menu (docs/rules.md#speech), replayed against the menu's synonyms.
    said: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
