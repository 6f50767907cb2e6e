"""``application/x-www-form-urlencoded`` fields, decoded only where they need it.

Every webhook parses its body and its action URL's query. ``urllib.parse.parse_qsl`` unquotes
every name and value; a webhook has about thirty and almost none holds an escape, so that cost
about 30 µs of a menu step's 90 (``scripts/bench_profile.py``). This gives the same pairs (a
property test holds it equal to ``parse_qsl(text, keep_blank_values=True)``), decoding only the
pieces that hold a ``+`` or a ``%``.
"""

from __future__ import annotations

from urllib.parse import unquote

MAX_FIELDS = 200  # a webhook has about thirty; more cannot be the provider's


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """The fields in order, blank values kept. Raises ValueError past ``MAX_FIELDS``."""
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if "+" in piece:  # a space; "%2B" is a plus sign, so this goes first
            key, value = key.replace("+", " "), value.replace("+", " ")
        if "%" in piece:
            key, value = _unquote(key), _unquote(value)
        pairs.append((key, value))
        if len(pairs) > MAX_FIELDS:
            raise ValueError("too many fields")
    return pairs


def _unquote(text: str) -> str:
    # Most escapes in a webhook are the "+" of an E.164 number (From, To, Caller, Called).
    if text.startswith("%2B") and "%" not in text[3:]:
        return "+" + text[3:]
    return unquote(text) if "%" in text else text
