"""Field checks shared by every section of the import file.

Free text from the file (names of companies, contacts and specialists, a ticket's summary) is
spoken to callers: it goes into a TwiML document, which is XML 1.0. XML 1.0 cannot carry most
control characters (``\\u0000`` makes the whole document invalid, and the provider then drops the
call), lone surrogates or the noncharacters ``U+FFFE``/``U+FFFF``; the rest of the control
characters (tab, line breaks, DEL, the C1 range) are legal XML but mean nothing to a voice and
never belong in a name or a one-line summary. So a record holding any of them is refused at
import, named like every other problem (``tickets[0].summary: ...``), instead of breaking calls
later.

Refused: every character of Unicode category Cc (C0 ``U+0000``-``U+001F``, ``U+007F``, C1
``U+0080``-``U+009F``), every surrogate code point (``U+D800``-``U+DFFF``, which ``json.loads``
lets through unpaired) and every noncharacter (``U+FDD0``-``U+FDEF`` and the last two code points
of each plane). Letters of any script, accents, symbols and emoji are fine.

Use it in a string field's ``Annotated`` metadata::

    Name = Annotated[str, Field(min_length=1, max_length=200), SpeakableText]
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator

_KINDS = {"Cc": "a control character", "Cs": "a lone surrogate"}


def _is_noncharacter(code_point: int) -> bool:
    return 0xFDD0 <= code_point <= 0xFDEF or code_point & 0xFFFE == 0xFFFE


def unspeakable_problem(text: str) -> str | None:
    """Why ``text`` cannot be spoken (its first offending character), or None when it can."""
    for position, char in enumerate(text, start=1):
        code_point = ord(char)
        kind = _KINDS.get(unicodedata.category(char))
        if kind is None and _is_noncharacter(code_point):
            kind = "a noncharacter"
        if kind is not None:
            return (
                f"character {position} is U+{code_point:04X}, {kind}: free text may not hold "
                "control characters, lone surrogates or noncharacters (the spoken XML cannot "
                "carry them)"
            )
    return None


def _speakable(raw: object) -> object:
    problem = unspeakable_problem(raw) if isinstance(raw, str) else None
    if problem is not None:
        raise ValueError(problem)
    return raw  # anything but a string is for the field's own type check to refuse


# Runs before the field's own validation: pydantic's whitespace stripping cannot even take a lone
# surrogate (it would answer "unable to parse raw data as a unicode string"), and the position
# named is then the character's place in the file's text.
SpeakableText = BeforeValidator(_speakable)


def _e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in E.164 form, e.g. +5511999990001") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A phone number the line may dial (a specialist's, a contact's), stored in E.164 form.
E164Phone = Annotated[str, AfterValidator(_e164)]
