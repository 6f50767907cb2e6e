"""The one place replies become TwiML, always through ``VoiceResponse`` (escaping included)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.actions import Ask, Dial, Hangup, Record, Redirect, Reply, Resume, Speech, say
from ivr.menu import Menu

UrlFor = Callable[[Resume], str]
MIMETYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Voice:
    name: str
    language: str


def voice_of(menu: Menu) -> Voice:
    return Voice(name=menu.settings.voice, language=menu.settings.language)


def build(reply: Reply, voice: Voice, url_for: UrlFor) -> str:
    """The reply's document as text."""
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
        return response.to_xml()
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
            _speak(response, say(then.nothing_said), voice)
            response.hangup()
    elif isinstance(then, Redirect):
        response.redirect(url_for(then.resume), method="POST")
    else:
        assert isinstance(then, Hangup)
        response.hangup()
    return response.to_xml()


def _gather(
    response: VoiceResponse, ask: Ask, speech: tuple[Speech, ...], voice: Voice, url_for: UrlFor
) -> None:
    action = url_for(ask.resume)
    listen = ask.listen
    # Keys keep their own limits (timeout, numDigits, finishOnKey) whatever speech adds: the
    # provider ends a spoken answer by speechTimeout, a keyed one as before.
    gather = response.gather(
        action=action,
        method="POST",
        input="dtmf speech" if listen else "dtmf",
        timeout=ask.timeout,
        num_digits=ask.num_digits,
        finish_on_key=ask.finish_on_key,
        language=listen.language if listen else None,
        hints=(listen.hints or None) if listen else None,
        speech_timeout=listen.timeout if listen else None,
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


def plain(text: str, voice: Voice) -> bytes:
    """A last-resort document that needs nothing but the text (errors, bad requests)."""
    response = VoiceResponse()
    response.say(text, voice=voice.name, language=voice.language)
    response.hangup()
    return response.to_xml().encode()
