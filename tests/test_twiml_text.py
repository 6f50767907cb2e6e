"""The TwiML writer writes exactly what the twilio library's own ``to_xml()`` writes, for any text
and attribute a reply can carry: escaping, empty elements, nesting and text between elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml.voice_response import VoiceResponse

from ivr.twiml import _xml

# Any text: markup characters, quotes, line ends, tabs and lone surrogates included.
texts = st.text(max_size=40)
markup = st.text(alphabet='&<>"\'\r\n\t aé', max_size=12)
any_text = st.one_of(texts, markup)


def library_text(response: VoiceResponse) -> bytes:
    return response.to_xml().encode()


@given(say=any_text, action=any_text, hint=any_text, tail=any_text, digits=st.integers(1, 12),
       play=st.booleans(), empty_gather=st.booleans())
@settings(max_examples=300, deadline=None)
def test_documents_equal_the_librarys_own(say: str, action: str, hint: str, tail: str,
                                          digits: int, play: bool, empty_gather: bool) -> None:
    response = VoiceResponse()
    response.say(say, voice="Polly.Camila", language="pt-BR")
    gather = response.gather(action=action, method="POST", input="dtmf", num_digits=digits,
                             finish_on_key="", timeout=6, hints=hint)
    if not empty_gather:
        gather.say(say)
        gather.pause(length=2)
        if play:
            gather.play(action)
    dial = response.dial(action=action, caller_id="+551140030015", timeout=20)
    dial.number(hint)
    response.append(tail)  # text after an element: its tail
    response.redirect(action, method="POST")
    response.hangup()
    assert _xml(response) == library_text(response)


@given(text=any_text)
def test_a_lone_text_equals_elementtree(text: str) -> None:
    response = VoiceResponse()
    response.say(text)
    assert _xml(response).split(b"?>", 1)[1] == ET.tostring(response.xml(), encoding="utf-8",
                                                             xml_declaration=False)


def test_markup_in_text_and_attributes_is_escaped() -> None:
    response = VoiceResponse()
    response.say('Tom & "Jerry" <ok>', voice='a"b')
    response.redirect("/next?a=1&b=2\n", method="POST")
    assert _xml(response) == (
        b'<?xml version="1.0" encoding="UTF-8"?><Response>'
        b'<Say voice="a&quot;b">Tom &amp; "Jerry" &lt;ok&gt;</Say>'
        b'<Redirect method="POST">/next?a=1&amp;b=2\n</Redirect></Response>'
    )


def test_an_empty_element_is_closed_as_the_library_closes_it() -> None:
    response = VoiceResponse()
    response.hangup()
    assert _xml(response) == library_text(response)
    assert _xml(response).endswith(b"<Response><Hangup /></Response>")


def test_a_character_utf8_cannot_carry_becomes_a_reference_not_an_error() -> None:
    response = VoiceResponse()
    response.say("Olá \ud800 mundo")
    assert b"Ol\xc3\xa1 &#55296; mundo" in _xml(response)
