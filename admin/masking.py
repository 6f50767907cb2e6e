"""What the console shows of callers: a number's last four digits, a CPF's last two."""

from __future__ import annotations

import re

from auth.documents import mask_cpf

_DIGIT_RUN = re.compile(r"\+?\d{9,}")


def mask_number(value: str | None) -> str:
    """``+5511987654321`` -> ``+55*******4321``; anything without enough digits (a SIP URI,
    "anonymous") shows none of them."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 8:
        return "***"
    if value.startswith("+"):
        return "+" + digits[:2] + "*" * (len(digits) - 6) + digits[-4:]
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str | None) -> str:
    """Every run of 9 or more digits in ``text``: 11 bare digits as a CPF, others as a number
    (ticket numbers have 8 and stay)."""
    def hide(found: re.Match[str]) -> str:
        run = found.group(0)
        return mask_cpf(run) if len(run) == 11 and run.isdigit() else mask_number(run)

    return _DIGIT_RUN.sub(hide, text or "")
