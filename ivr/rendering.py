"""Replies to TwiML bytes, with the documents that repeat cached.

Replies are frozen values and the same menu step yields the same reply, so most webhook hits skip
building XML; a reply made of data that seldom repeats (a ticket read out) is filled from its
prompt's template instead (``ivr.prompt_templates``).
"""

from __future__ import annotations

from functools import lru_cache

from ivr.actions import Ask, Reply
from ivr.prompt_templates import fill_ask
from ivr.twiml import UrlFor, Voice, build


def render(reply: Reply, voice: Voice, url_for: UrlFor, url_scope: str = "") -> bytes:
    """The document as UTF-8, ready to send. ``url_scope``: whatever else ``url_for`` depends on
    (the public base URL, the script root), so that documents rendered for one configuration are
    never served under another."""
    if not reply.cacheable:
        return _render_now(reply, voice, url_for)
    return _render_cached(reply, voice, url_for, url_scope)


@lru_cache(maxsize=4096)
def _render_cached(reply: Reply, voice: Voice, url_for: UrlFor, url_scope: str) -> bytes:
    return _render_now(reply, voice, url_for)


def _render_now(reply: Reply, voice: Voice, url_for: UrlFor) -> bytes:
    text = fill_ask(reply, voice, url_for) if isinstance(reply.then, Ask) else None
    if text is None:
        text = build(reply, voice, url_for)
    # A character UTF-8 cannot carry (a lone surrogate typed into menus.yaml) becomes a
    # character reference, as the library writes it, instead of an error.
    return text.encode("utf-8", "xmlcharrefreplace")
