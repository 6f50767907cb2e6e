"""Recent calls for the console: newest first, found by CallSid or calling number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ivr.calls.models import Call

PAGE_SIZE = 50
_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class Search:
    call_sid: str | None = None
    numbers: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def empty(self) -> bool:
        return self.call_sid is None and not self.numbers


def parse_search(text: str | None) -> Search:
    """A CallSid, or a phone number in any usual writing (E.164, or Brazilian with or without
    the 0 and the area code's parentheses)."""
    query = (text or "").strip()
    if not query:
        return Search()
    if query[:2].upper() == "CA":
        if not _CALL_SID.fullmatch(query):
            return Search(problem="a CallSid is CA followed by 32 hexadecimal digits")
        return Search(call_sid="CA" + query[2:].lower())
    try:
        number = phonenumbers.parse(query, "BR")
    except phonenumbers.NumberParseException:
        return Search(problem="not a CallSid nor a phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Search(numbers=(e164, e164.lstrip("+")))


def recent_calls(session: Session, search: Search, start: datetime, end: datetime,
                 *, last_node: str | None = None, limit: int = PAGE_SIZE) -> list[Call]:
    """A CallSid is looked up whatever its date; everything else within [start, end)."""
    statement: Select[Call]
    if search.call_sid is not None:
        statement = select(Call).where(Call.call_sid == search.call_sid)
    else:
        statement = (select(Call).where(Call.started_at >= start, Call.started_at < end)
                     .order_by(Call.started_at.desc()))
        if search.numbers:
            statement = statement.where(Call.from_number.in_(search.numbers))
        if last_node is not None:
            statement = statement.where(Call.last_node == last_node)
    return list(session.scalars(statement.limit(limit)))
