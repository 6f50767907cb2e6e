"""The action URLs the server sends the provider back to, and what they carry.

A call's place in the tree (``s=``, a ``CallState``) and a step's retry counters ride in the
query string of the URL the provider signs, so any worker serves the next step without a read.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for

from ivr.actions import Resume
from ivr.form_fields import parse_pairs
from ivr.state import CallState


def query_value(name: str) -> str | None:
    """One field of this request's query string (the first, if repeated), parsed once per
    request however many fields a view reads."""
    fields: dict[str, str] | None = g.get("query_fields")
    if fields is None:
        fields = {}
        try:
            for key, value in parse_pairs(request.query_string.decode("latin-1")):
                fields.setdefault(key, value)
        except ValueError:  # more fields than any URL of ours carries: none of them is ours
            fields = {}
        g.query_fields = fields
    return fields.get(name)


def query_counter(name: str) -> int:
    """A retry counter: one ASCII digit, anything else counts as 0 (``int`` would also take
    other scripts' digits)."""
    raw = query_value(name) or "0"
    return int(raw) if len(raw) == 1 and raw.isascii() and raw.isdigit() else 0


def call_state() -> CallState | None:
    """Where the call is, from the URL; None for a URL that carries no valid state."""
    return CallState.decode(query_value("s"))


def resume_url(resume: Resume) -> str:
    """Relative unless PUBLIC_BASE_URL is set: some providers want absolute action URLs."""
    values: dict[str, Any] = {"s": resume.state.encode(), **dict(resume.params)}
    path = url_for(resume.endpoint, **values)
    return f"{current_app.config['PUBLIC_BASE_URL'] or ''}{path}"
