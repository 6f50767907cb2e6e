"""Tickets, the specialists in charge of them, and the trail of what callers did to them.

Deadlines are not stored: they follow from ``solution_at`` and ``postponed``
(``tickets.deadlines``), so there is one source of truth and nothing to keep in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CHAR,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import auth.models  # noqa: F401 - registers companies and contacts, which the foreign keys name
from database.base import Base, UTCDateTime
from tickets.enums import Area, ClosedHow, EventKind, TicketStatus

NUMBER_LENGTH = 8


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def _enum(enum: type[StrEnum]) -> Enum:
    # Stored as plain strings with a CHECK constraint declared beside the table (explicit names,
    # the same on SQLite and PostgreSQL); no native PostgreSQL ENUM type to migrate later.
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=_values,
        validate_strings=True,
    )


def _one_of(column: str, enum: type[StrEnum]) -> str:
    listed = ", ".join(f"'{value}'" for value in _values(enum))
    return f"{column} IN ({listed})"


class Specialist(Base):
    __tablename__ = "specialists"
    __table_args__ = (CheckConstraint(_one_of("area", Area), name="area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    area: Mapped[Area] = mapped_column(_enum(Area))
    # E.164, e.g. +5511999990001
    phone: Mapped[str] = mapped_column(String(16))

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else ""


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_one_of("area", Area), name="area"),
        CheckConstraint(_one_of("status", TicketStatus), name="status"),
        CheckConstraint(
            f"closed_how IS NULL OR {_one_of('closed_how', ClosedHow)}", name="closed_how"
        ),
        # Finds the solutions waiting for acceptance whose deadline may have passed.
        Index("ix_tickets_status_solution_at", "status", "solution_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The 8-digit number callers key; the unique index makes a lookup an index seek.
    number: Mapped[str] = mapped_column(CHAR(NUMBER_LENGTH), unique=True, index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    area: Mapped[Area] = mapped_column(_enum(Area))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus))
    specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL")
    )
    # Who opened it, of the same company: the one a reminder call goes to.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    solution_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The one postponement of the acceptance deadline has been used (for the current solution).
    postponed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_how: Mapped[ClosedHow | None] = mapped_column(_enum(ClosedHow))
    # Optimistic locking: two callers (or a caller and the expiry job) changing the same ticket
    # at once cannot both win; the loser's flush fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    specialist: Mapped[Specialist | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket",
        order_by="TicketEvent.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="select",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class TicketEvent(Base):
    """One thing that happened to a ticket through this server: accepted, postponed, rejected
    (with the caller's recorded reason), a voice message, or an automatic closing.

    What code reads back has a column of its own; ``detail`` is for people only.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint(_one_of("kind", EventKind), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    call_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(String(1024))
    # The proposed solution the caller answered (accepted, postponed, rejected) or that closed
    # at its deadline; None for a voice message. An import reads it back (``importing``): a
    # file that still proposes that solution does not undo the answer.
    solution_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class VoiceMessageSlot(Base):
    """The ticket a call was offered to leave a recorded message on.

    The recording's callback may come after the call ended (its login gone), and a signed
    request can be replayed: the callback attaches the recording to this ticket and no other,
    and takes the slot, so a replay finds none and changes nothing.
    """

    __tablename__ = "voice_message_slots"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ReminderCall(Base):
    """One reminder call about one proposed solution (``tickets.reminders``).

    A row is claimed before the provider is asked to place the call: the unique constraint on
    (ticket, solution, attempt) lets one claim win however many jobs run at once, so a solution
    gets at most one call per attempt.
    """

    __tablename__ = "reminder_calls"
    __table_args__ = (UniqueConstraint("ticket_id", "solution_at", "attempt",
                                       name="uq_reminder_calls_solution_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    solution_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempt: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # claimed -> placed (the provider took it) | failed (it refused, or could not be reached)
    state: Mapped[str] = mapped_column(String(16))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # human, machine_end_beep, fax, unknown...: what the provider said answered, when it did
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the status callback's final status: completed, busy, no-answer, failed, canceled
    final_status: Mapped[str | None] = mapped_column(String(32))
