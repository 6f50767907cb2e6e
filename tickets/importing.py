"""The ``specialists`` and ``tickets`` sections of an import file (docs/rules.md#import-format).

A record's identity is its key (specialist) or number (ticket): importing the same file twice
changes nothing. On update, an optional field the record leaves out keeps its stored value (so a
re-import does not undo a caller's postponement, say); one given as ``null`` is cleared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.documents import cnpj_problem, normalize_document
from auth.importing import Cpf
from auth.models import Company, Contact
from importer.errors import RecordError
from importer.fields import E164Phone, SpeakableText
from importer.sections import ImportSection, assign_changed
from tickets.enums import Area, ClosedHow, EventKind, TicketStatus
from tickets.models import Specialist, Ticket, TicketEvent


def _cnpj(raw: str) -> str:
    problem = cnpj_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    return normalize_document(raw)


_RECORD = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

SpecialistKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class SpecialistRecord(BaseModel):
    model_config = _RECORD

    key: SpecialistKey
    name: Annotated[str, Field(min_length=1, max_length=120), SpeakableText]
    area: Area
    phone: E164Phone


class TicketRecord(BaseModel):
    model_config = _RECORD

    number: Annotated[str, Field(pattern=r"^[0-9]{8}$")]
    company: Annotated[str, AfterValidator(_cnpj)]
    area: Area
    status: TicketStatus
    specialist: SpecialistKey | None = None
    # The CPF of the contact who opened it (same company): reminder calls go to them.
    contact: Cpf | None = None
    summary: Annotated[str, Field(max_length=2000), SpeakableText]
    opened_at: AwareDatetime
    solution_at: AwareDatetime | None = None
    postponed: StrictBool | None = None
    closed_at: AwareDatetime | None = None

    def given(self, field: str) -> bool:
        return field in self.model_fields_set


def _check_ticket(record: TicketRecord) -> None:
    if record.status is TicketStatus.SOLUTION_PROPOSED and record.solution_at is None:
        raise RecordError("solution_at", "is required when status is solution_proposed")
    if record.postponed and record.solution_at is None:
        raise RecordError("solution_at", "is required when postponed is true")
    if record.closed_at is not None and record.status is not TicketStatus.CLOSED:
        raise RecordError("closed_at", "may only be given when status is closed")
    for field in ("solution_at", "closed_at"):
        moment: datetime | None = getattr(record, field)
        if moment is not None and moment < record.opened_at:
            raise RecordError(field, "is earlier than opened_at")


class SpecialistsSection:
    key = "specialists"
    identity_field = "key"

    def parse(self, raw: object) -> SpecialistRecord:
        return SpecialistRecord.model_validate(raw)

    def upsert(self, session: Session, record: SpecialistRecord, *, rounds: int) -> bool:
        values = {
            "name": record.name,
            "area": record.area,
            "phone": record.phone,
        }
        specialist = session.scalars(
            select(Specialist).where(Specialist.key == record.key)
        ).one_or_none()
        if specialist is None:
            session.add(Specialist(key=record.key, **values))
            return True
        return assign_changed(specialist, values)


class TicketsSection:
    key = "tickets"
    identity_field = "number"

    def parse(self, raw: object) -> TicketRecord:
        record = TicketRecord.model_validate(raw)
        _check_ticket(record)
        return record

    def upsert(self, session: Session, record: TicketRecord, *, rounds: int) -> bool:
        company_id = session.scalars(
            select(Company.id).where(Company.cnpj == record.company)
        ).one_or_none()
        if company_id is None:
            raise RecordError(
                "company", f"no company with CNPJ {record.company} in the database or the file"
            )
        ticket = session.scalars(select(Ticket).where(Ticket.number == record.number)).one_or_none()

        values: dict[str, Any] = {
            "company_id": company_id,
            "area": record.area,
            "status": record.status,
            "summary": record.summary,
            "opened_at": record.opened_at,
        }
        if record.given("specialist") or ticket is None:
            values["specialist_id"] = self._specialist_id(session, record.specialist)
        if record.given("contact") or ticket is None:
            values["contact_id"] = self._contact_id(session, record.contact, company_id)
        if record.given("solution_at") or ticket is None:
            values["solution_at"] = record.solution_at
        if record.given("postponed") or ticket is None:
            values["postponed"] = bool(record.postponed)
        elif ticket.solution_at != record.solution_at and record.given("solution_at"):
            # A different solution opens a new acceptance window, with its own postponement.
            values["postponed"] = False
        if record.status is not TicketStatus.CLOSED:
            values["closed_at"] = None
            values["closed_how"] = None
        elif record.given("closed_at"):
            values["closed_at"] = record.closed_at
        if ticket is not None and ticket.status is not TicketStatus.CLOSED:
            # Newly closed by the support team: how is not the caller's doing.
            values["closed_how"] = None

        if ticket is None:
            session.add(Ticket(number=record.number, **values))
            return True
        kept = self._answered_here(session, ticket, record)
        for field in kept:
            # The file still shows the solution a caller already answered (it was exported
            # before the call): the caller's answer stands until a new solution comes.
            values.pop(field, None)
        return assign_changed(ticket, values)

    @staticmethod
    def _answered_here(session: Session, ticket: Ticket, record: TicketRecord) -> tuple[str, ...]:
        """The fields a caller's answer on this server set for the solution the record still
        proposes (accepted, postponed, rejected, closed past the deadline): the import keeps
        them. Judged by the ticket as it stands plus the event that put it there, not by
        clocks: a ticket the support team reopened since is theirs again."""
        if record.status is not TicketStatus.SOLUTION_PROPOSED:
            return ()
        decided = ("status", "closed_at", "closed_how", "postponed")

        def answered(kind: EventKind, solution_at: datetime) -> bool:
            """An event of this kind on the ticket, about that solution."""
            return session.scalar(select(TicketEvent.id).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind,
                TicketEvent.solution_at == solution_at).limit(1)) is not None

        if ticket.solution_at is None:
            # A rejection ends the solution's window and clears it; its event keeps it.
            if ticket.status is not TicketStatus.IN_PROGRESS or record.solution_at is None:
                return ()
            if answered(EventKind.REJECTED, record.solution_at):
                return (*decided, "solution_at")
            return ()
        if record.given("solution_at") and record.solution_at != ticket.solution_at:
            return ()  # a new solution: a new acceptance window
        if ticket.status is TicketStatus.CLOSED:
            # Only this server sets how a ticket closed; the team's closings carry none.
            closings: dict[ClosedHow | None, EventKind] = {
                ClosedHow.ACCEPTED: EventKind.ACCEPTED, ClosedHow.AUTOMATIC: EventKind.AUTO_CLOSED}
            kind = closings.get(ticket.closed_how)
        elif ticket.status is TicketStatus.SOLUTION_PROPOSED and ticket.postponed:
            kind = EventKind.POSTPONED  # unless the postponement came in a file
        else:
            kind = None
        return decided if kind is not None and answered(kind, ticket.solution_at) else ()

    @staticmethod
    def _contact_id(session: Session, cpf: str | None, company_id: int) -> int | None:
        if cpf is None:
            return None
        contact = session.execute(
            select(Contact.id, Contact.company_id).where(Contact.cpf == cpf)).one_or_none()
        if contact is None:
            raise RecordError("contact", "no contact with that CPF in the database or the file")
        if contact.company_id != company_id:
            raise RecordError("contact", "the contact is of another company than the ticket")
        return int(contact.id)

    @staticmethod
    def _specialist_id(session: Session, key: str | None) -> int | None:
        if key is None:
            return None
        specialist_id = session.scalars(
            select(Specialist.id).where(Specialist.key == key)
        ).one_or_none()
        if specialist_id is None:
            raise RecordError(
                "specialist", f"no specialist with key {key!r} in the database or the file"
            )
        return specialist_id


SECTIONS: list[ImportSection] = [SpecialistsSection(), TicketsSection()]
