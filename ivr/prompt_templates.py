"""Ask documents filled from a template per prompt shape instead of built per request.

A prompt read out from data (a ticket) is new on almost every request, and building it through
``VoiceResponse`` cost a fifth of the whole request. Its structure, though, depends only on the
prompt's shape: which items are pauses, recordings or texts, and the Gather's settings. So each
shape is built once through ``VoiceResponse`` with markers where the texts and the action URL go,
checked against a document built from values that need every kind of escaping, and later
documents of that shape are the template with the values escaped into the markers. A property
test holds the result equal to building the document through ``VoiceResponse``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from ivr.actions import Ask, Listen, Reply, Resume, Speech
from ivr.state import CallState
from ivr.twiml import UrlFor, Voice, build

_MARK = "\ue000"  # a private-use character: no prompt or URL has one (checked: built if so)
_URL_SLOT = -1
_SLOT = re.compile(_MARK + "(-?[0-9]+)" + _MARK)
# What ElementTree escapes in an attribute beyond text's "&", "<" and ">": quotes, and line
# ends and tabs that a reader would normalise away.
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
_NO_STATE = CallState(node="")


def _escape_text(text: str) -> str:
    return escape(text)


def _escape_attribute(value: str) -> str:
    return escape(value, _ATTRIBUTE_ENTITIES)


@dataclass(frozen=True)
class Template:
    # Literal text and slots, alternating: literal, slot, literal, ..., literal. A slot is
    # (index of the value, escape function).
    literals: tuple[str, ...]
    slots: tuple[tuple[int, Callable[[str], str]], ...]

    def fill(self, values: list[str]) -> str:
        literals = self.literals
        parts = [literals[0]]
        for position, (index, escape_value) in enumerate(self.slots, 1):
            parts.append(escape_value(values[index]))
            parts.append(literals[position])
        return "".join(parts)


def fill_ask(reply: Reply, voice: Voice, url_for: UrlFor) -> str | None:
    """The Ask reply's document from its shape's template; None when it must be built (a marker
    in a value, a template that failed its check, an empty URL)."""
    ask = reply.then
    assert isinstance(ask, Ask)
    speech = reply.speech + ask.speech
    values: list[str] = []
    for item in speech:
        text = item.text
        if _MARK in text or _MARK in item.audio_url:
            return None
        values.append(" ".join(text) if item.as_digits and text else text)
    url = url_for(ask.resume)
    # An empty URL would empty the <Redirect>, which is then written as an empty element.
    if _MARK in url or not url:
        return None
    values.append(url)  # index -1: _URL_SLOT
    shape = tuple((item.pause, item.audio_url, not item.text) for item in speech)
    template = template_for(shape, ask.timeout, ask.num_digits, ask.finish_on_key,
                            ask.listen_after, voice, ask.listen)
    return template.fill(values) if template is not None else None


@lru_cache(maxsize=1024)
def template_for(shape: tuple[tuple[int, str, bool], ...], timeout: int,
                 num_digits: int | None, finish_on_key: str, listen_after: int,
                 voice: Voice, listen: Listen | None = None) -> Template | None:
    """The shape's template, or None when it cannot be trusted (a marker in the voice's name,
    say)."""
    def ask_with(text_of: Callable[[int], str]) -> Ask:
        items = tuple(
            Speech(text="" if no_text else text_of(index), audio_url=audio_url, pause=pause)
            for index, (pause, audio_url, no_text) in enumerate(shape)
        )
        return Ask(Resume("", _NO_STATE), items, timeout, num_digits, finish_on_key,
                   listen_after, listen)

    document = build(Reply(then=ask_with(lambda index: f"{_MARK}{index}{_MARK}")), voice,
                     lambda _resume: f"{_MARK}{_URL_SLOT}{_MARK}")
    template = _parse(document)
    if not all(_URL_SLOT <= index < len(shape) for index, _escape in template.slots):
        return None  # a marker from elsewhere (the voice's name, say) read as a slot
    probe = ask_with(lambda index: f'{index} & <b> "q" \n\t\r')
    probe_url = '/p?a=1&b="2"\n'
    expected = build(Reply(then=probe), voice, lambda _resume: probe_url)
    values = [item.text for item in probe.speech] + [probe_url]
    return template if template.fill(values) == expected else None


def _parse(document: str) -> Template:
    pieces = _SLOT.split(document)
    literals = tuple(pieces[0::2])
    slots = []
    before = ""
    for literal, index in zip(pieces[0::2], pieces[1::2], strict=False):
        before += literal
        # Inside a tag (after its "<", before its ">"): an attribute value.
        in_tag = before.rfind("<") > before.rfind(">")
        slots.append((int(index), _escape_attribute if in_tag else _escape_text))
        before += "x"
    return Template(literals, tuple(slots))
