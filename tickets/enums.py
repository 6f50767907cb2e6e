"""The fixed vocabularies of a ticket. Values are what the database and the import file hold."""

from __future__ import annotations

from enum import StrEnum


class Area(StrEnum):
    CADASTRO = "cadastro"
    EDUCACIONAL = "educacional"
    FINANCAS = "financas"
    NFE = "nfe"


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    SOLUTION_PROPOSED = "solution_proposed"
    CLOSED = "closed"


class ClosedHow(StrEnum):
    """How a ticket was closed. A ticket closed by the support team outside this server (as an
    import reports it) has no ``closed_how``."""

    ACCEPTED = "accepted"
    AUTOMATIC = "automatic"


class EventKind(StrEnum):
    ACCEPTED = "accepted"
    POSTPONED = "postponed"
    REJECTED = "rejected"
    AUTO_CLOSED = "auto_closed"
    VOICE_MESSAGE = "voice_message"
