"""The one place replies become TwiML, always through ``VoiceResponse`` (escaping included).

Replies are frozen values and the same menu step yields the same reply, so rendered documents are
cached: most webhook hits skip XML building entirely.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.actions import Ask, Dial, Hangup, Record, Redirect, Reply, Resume, Speech

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
    return _render_cached(reply, voice, url_for, url_scope)


@lru_cache(maxsize=4096)
def _render_cached(reply: Reply, voice: Voice, url_for: UrlFor, url_scope: str) -> bytes:
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
        return _xml(response)
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
    return _xml(response)


def _xml(response: VoiceResponse) -> bytes:
    """``response.to_xml()`` encoded, written without ElementTree's writer.

    ``ET.tostring`` first walks the tree for namespaces TwiML never has and then writes through
    a stream: half of rendering a ticket's document, which is new on almost every request.
    This writes the same document (a property test holds it equal to ``to_xml()``), down to a
    character UTF-8 cannot carry (a lone surrogate typed into menus.yaml) becoming a character
    reference instead of an error. Cached documents are bytes, so a hit encodes nothing.
    """
    parts = [XML_DECLARATION]
    _write(response.xml(), parts.append)
    return "".join(parts).encode("utf-8", "xmlcharrefreplace")


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
