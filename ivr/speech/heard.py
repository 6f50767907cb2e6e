"""What the caller answered at a prompt: keys, or words the provider transcribed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

MAX_SPEECH = 300  # characters of a transcription worth reading; a menu answer is a few words

InputKind = Literal["dtmf", "speech", "none"]


@dataclass(frozen=True)
class Heard:
    """Keys win: a transcription counts only when no key came with it."""

    keys: str = ""
    # May be a CPF said aloud: never shown in a repr, a log or a record.
    speech: str = field(default="", repr=False)
    # The provider's confidence in the transcription, 0 to 1; None when it gave none.
    confidence: float | None = None

    @property
    def kind(self) -> InputKind:
        if self.keys.strip():
            return "dtmf"
        return "speech" if self.speech.strip() else "none"


def heard(digits: str | None, speech: str | None, confidence: str | None) -> Heard:
    """From the provider's fields (``Digits``, ``SpeechResult``, ``Confidence``) as sent."""
    return Heard(keys=digits or "", speech=(speech or "")[:MAX_SPEECH],
                 confidence=confidence_of(confidence))


def confidence_of(raw: str | None) -> float | None:
    """A number from 0 to 1 written in ASCII, else None (``float`` alone would also take other
    scripts' digits, "nan" and "inf")."""
    if not raw or len(raw) > 32 or not raw.isascii():
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None
