"""The one place replies become TwiML, always through ``VoiceResponse`` (escaping included).

Replies are frozen values and the same menu step yields the same reply, so rendered documents are
cached: most webhook hits skip XML building entirely.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.actions import Ask, Dial, Hangup, Record, Redirect, Reply, Resume, Speech
from ivr.state import CallState

UrlFor = Callable[[Resume], str]
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


@dataclass(frozen=True)
class Voice:
    name: str
    language: str


def render(reply: Reply, voice: Voice, url_for: UrlFor, url_scope: str = "") -> bytes:
    """The document as UTF-8, ready to send. ``url_scope``: whatever else ``url_for`` depends on
    (the public base URL), so that documents rendered for one configuration are never served
    under another."""
    if not reply.cacheable:
        return _render_now(reply, voice, url_for)
    return _render_cached(reply, voice, url_for, url_scope)


@lru_cache(maxsize=4096)
def _render_cached(reply: Reply, voice: Voice, url_for: UrlFor, url_scope: str) -> bytes:
    return _render_now(reply, voice, url_for)


def _render_now(reply: Reply, voice: Voice, url_for: UrlFor) -> bytes:
    text = _fill_ask(reply, voice, url_for) if isinstance(reply.then, Ask) else None
    if text is None:
        text = _build(reply, voice, url_for)
    return text.encode("utf-8", "xmlcharrefreplace")


def _build(reply: Reply, voice: Voice, url_for: UrlFor) -> str:
    """The document, built through ``VoiceResponse``."""
    response = VoiceResponse()
    then = reply.then
    if isinstance(then, Ask):
        # Speech before an Ask belongs inside the Gather so the caller can key over it, except
        # leading pauses: a deliberate wait (the delay after failed logins) must not be skipped.
        speech = reply.speech + then.speech
        waits = 0
        while waits < len(speech) and speech[waits].pause and not speech[waits].text \
                and not speech[waits].audio_url:
            waits += 1
        _speak(response, speech[:waits], voice)
        _gather(response, then, speech[waits:], voice, url_for)
        return _xml_text(response)
    _speak(response, reply.speech, voice)
    if isinstance(then, Dial):
        dial = response.dial(action=url_for(then.resume), method="POST", timeout=then.timeout,
                             caller_id=then.caller_id)
        target = then.target
        if target.startswith("sip:"):
            dial.sip(target)
        elif target.startswith("queue:"):
            dial.queue(target.removeprefix("queue:"))
        elif target.startswith("client:"):
            dial.client(target.removeprefix("client:"))
        else:
            dial.number(target)
    elif isinstance(then, Record):
        response.record(action=url_for(then.resume), method="POST", max_length=then.max_length,
                        timeout=then.timeout, finish_on_key=then.finish_on_key, play_beep=True)
        # An empty recording does not call the action: the provider goes on to what follows.
        if then.on_silence is not None:
            response.redirect(url_for(then.on_silence), method="POST")
        else:
            _speak(response, (Speech(text="Não recebemos nenhuma mensagem. Até logo."),), voice)
            response.hangup()
    elif isinstance(then, Redirect):
        response.redirect(url_for(then.resume), method="POST")
    else:
        assert isinstance(then, Hangup)
        response.hangup()
    return _xml_text(response)


def _xml(response: VoiceResponse) -> bytes:
    """``response.to_xml()`` encoded (see ``_xml_text``)."""
    return _xml_text(response).encode("utf-8", "xmlcharrefreplace")


def _xml_text(response: VoiceResponse) -> str:
    """``response.to_xml()``, written without ElementTree's writer.

    ``ET.tostring`` first walks the tree for namespaces TwiML never has and then writes through
    a stream: half of rendering a ticket's document, which is new on almost every request.
    This writes the same document (a property test holds it equal to ``to_xml()``), down to a
    character UTF-8 cannot carry (a lone surrogate typed into menus.yaml) becoming a character
    reference instead of an error. Cached documents are bytes, so a hit encodes nothing.
    """
    parts = [XML_DECLARATION]
    _write(response.xml(), parts.append)
    return "".join(parts)


def _write(element: ET.Element, out: Callable[[str], object]) -> None:
    tag = element.tag
    out("<" + tag)
    for name, value in element.items():
        out(f' {name}="{_escape_attribute(value)}"')
    if element.text or len(element):
        out(">")
        if element.text:
            out(_escape_text(element.text))
        for child in element:
            _write(child, out)
        out(f"</{tag}>")
    else:
        out(" />")
    if element.tail:
        out(_escape_text(element.tail))


# What the reader would take for markup, in the order ElementTree escapes it ("&" first); in
# attributes also quotes, and line ends and tabs that the reader would normalise away.
_TEXT_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ENTITIES = (*_TEXT_ENTITIES, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"),
                       ("\t", "&#09;"))


def _escape(value: str, entities: tuple[tuple[str, str], ...]) -> str:
    for char, entity in entities:
        if char in value:
            value = value.replace(char, entity)
    return value


def _escape_text(text: str) -> str:
    return _escape(text, _TEXT_ENTITIES)


def _escape_attribute(value: str) -> str:
    return _escape(value, _ATTRIBUTE_ENTITIES)


def _gather(
    response: VoiceResponse, ask: Ask, speech: tuple[Speech, ...], voice: Voice, url_for: UrlFor
) -> None:
    action = url_for(ask.resume)
    gather = response.gather(
        action=action,
        method="POST",
        input="dtmf",
        timeout=ask.timeout,
        num_digits=ask.num_digits,
        finish_on_key=ask.finish_on_key,
    )
    _speak(gather, speech, voice)
    if ask.listen_after:
        gather.pause(length=ask.listen_after)
    # Silence: no keys within the timeout falls through to here and comes back without Digits.
    response.redirect(action, method="POST")


def _speak(parent: VoiceResponse | Gather, speech: tuple[Speech, ...], voice: Voice) -> None:
    # Consecutive texts are said by one <Say>: the caller hears the same, the document is
    # smaller and quicker to build.
    texts: list[str] = []

    def say_pending() -> None:
        if texts:
            parent.say(" ".join(texts), voice=voice.name, language=voice.language)
            texts.clear()

    for item in speech:
        if item.pause or item.audio_url:
            say_pending()
        if item.pause:
            parent.pause(length=item.pause)
        if item.audio_url:
            parent.play(item.audio_url)
        if item.text:
            # Digits spaced out are read one by one by every provider's TTS, SSML or not.
            texts.append(" ".join(item.text) if item.as_digits else item.text)
    say_pending()


def render_plain(text: str, voice: Voice, hangup: bool = True) -> bytes:
    """A last-resort document that needs nothing but the text (errors, bad requests)."""
    response = VoiceResponse()
    response.say(text, voice=voice.name, language=voice.language)
    if hangup:
        response.hangup()
    return _xml(response)


# -- Ask documents from templates -------------------------------------------------------------
#
# A prompt read out from data (a ticket) is new on almost every request, and building it through
# VoiceResponse cost a fifth of the whole request. Its structure, though, depends only on the
# prompt's shape: which items are pauses, recordings or texts, and the Gather's settings. So each
# shape is built once through VoiceResponse with markers where the texts and the action URL go,
# and later documents of that shape are the template with the values escaped into the markers.
# A test holds the result equal to building the document through VoiceResponse.

_MARK = "\ue000"  # a private-use character: no prompt or URL has one (checked: _build if so)
_URL_SLOT = -1
_SLOT = re.compile(_MARK + "(-?[0-9]+)" + _MARK)


@dataclass(frozen=True)
class _Template:
    # Literal text and slots, alternating: literal, slot, literal, ..., literal. A slot is
    # (index of the value, escape function).
    literals: tuple[str, ...]
    slots: tuple[tuple[int, Callable[[str], str]], ...]

    def fill(self, values: list[str]) -> str:
        literals = self.literals
        parts = [literals[0]]
        for position, (index, escape) in enumerate(self.slots, 1):
            parts.append(escape(values[index]))
            parts.append(literals[position])
        return "".join(parts)


def _fill_ask(reply: Reply, voice: Voice, url_for: UrlFor) -> str | None:
    """The document from its shape's template; None when it must be built (a marker in a
    value, a template that failed its check, an empty URL)."""
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
    template = _ask_template(shape, ask.timeout, ask.num_digits, ask.finish_on_key,
                             ask.listen_after, voice)
    return template.fill(values) if template is not None else None


@lru_cache(maxsize=1024)
def _ask_template(shape: tuple[tuple[int, str, bool], ...], timeout: int,
                  num_digits: int | None, finish_on_key: str, listen_after: int,
                  voice: Voice) -> _Template | None:
    """The shape's template, or None when it cannot be trusted (a marker in the voice's name,
    say): checked once against ``_build`` with values that need every kind of escaping."""
    def ask_with(text_of: Callable[[int], str]) -> Ask:
        speech = tuple(
            Speech(text="" if no_text else text_of(index), audio_url=audio_url, pause=pause)
            for index, (pause, audio_url, no_text) in enumerate(shape)
        )
        return Ask(Resume("", _NO_STATE), speech, timeout, num_digits, finish_on_key,
                   listen_after)

    document = _build(Reply(then=ask_with(lambda index: f"{_MARK}{index}{_MARK}")), voice,
                      lambda _resume: f"{_MARK}{_URL_SLOT}{_MARK}")
    template = _parse_template(document)
    if not all(_URL_SLOT <= index < len(shape) for index, _escape in template.slots):
        return None  # a marker from elsewhere (the voice's name, say) read as a slot
    probe = ask_with(lambda index: f'{index} & <b> "q" \n\t')
    probe_url = '/p?a=1&b="2"\n'
    expected = _build(Reply(then=probe), voice, lambda _resume: probe_url)
    values = [item.text for item in probe.speech] + [probe_url]
    return template if template.fill(values) == expected else None


def _parse_template(document: str) -> _Template:
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
    return _Template(literals, tuple(slots))


_NO_STATE = CallState(node="")
