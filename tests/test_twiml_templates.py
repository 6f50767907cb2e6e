"""Ask documents filled from a template per prompt shape equal the same documents built through
``VoiceResponse``, for any texts, recordings, pauses, Gather settings and action URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.actions import Ask, Reply, Resume, Speech
from ivr.menu.loader import load_menu
from ivr.state import CallState
from ivr.twiml import _MARK, Voice, _build, render
from tickets import flow
from tickets.lookup import TicketView

markup = st.text(alphabet='&<>"\'\r\n\t aé\ud800' + _MARK, max_size=12)
# What a slot looks like: a marker, an index (in range or not), a marker.
slot_like = st.builds(lambda a, n, b: f"{a}{_MARK}{n}{_MARK}{b}", markup,
                      st.sampled_from(["0", "1", "5", "-1", "-2", "99"]), markup)
any_text = st.one_of(st.text(max_size=30), markup)
items = st.builds(
    Speech,
    text=st.one_of(st.just(""), any_text, slot_like),
    audio_url=st.one_of(st.just(""), st.just("https://x.test/a.mp3?a=1&b=2"), markup),
    as_digits=st.booleans(),
    pause=st.sampled_from([0, 0, 1, 3]),
)
asks = st.builds(
    Ask,
    resume=st.builds(Resume, endpoint=st.just("menu.key"), state=st.just(CallState("main"))),
    speech=st.lists(items, max_size=6).map(tuple),
    timeout=st.integers(1, 10),
    num_digits=st.one_of(st.none(), st.integers(1, 8)),
    finish_on_key=st.one_of(st.sampled_from(["", "#", "*"]), slot_like),
    listen_after=st.sampled_from([0, 2]),
)
voices = st.one_of(st.just(Voice("Polly.Camila", "pt-BR")),
                   st.builds(Voice, name=st.one_of(markup, slot_like),
                             language=st.one_of(st.just("pt-BR"), slot_like)))


@given(lead=st.lists(items, max_size=3).map(tuple), ask=asks, url=any_text, voice=voices,
       cacheable=st.booleans())
@settings(max_examples=400, deadline=None)
def test_an_ask_document_equals_the_one_built_through_the_library(
    lead: tuple[Speech, ...], ask: Ask, url: str, voice: Voice, cacheable: bool
) -> None:
    reply = Reply(speech=lead, then=ask, cacheable=cacheable)

    def url_for(_resume: Resume) -> str:
        return url

    expected = _build(reply, voice, url_for).encode("utf-8", "xmlcharrefreplace")
    assert render(reply, voice, url_for) == expected


def library_document(reply: Reply, voice: Voice, url: str) -> bytes:
    """The document built through ``VoiceResponse``, as sent."""
    return _build(reply, voice, lambda _resume: url).encode("utf-8", "xmlcharrefreplace")


def test_ticket_prompts_of_one_shape_each_read_their_own_number() -> None:
    """Prompts that differ only in their values (one template) each carry their own values."""
    voice = Voice("Polly.Camila", "pt-BR")
    url = "/t?s=x&a=1"
    for number in ("12345678", "87654321", "12345678"):
        ask = Ask(Resume("tickets.action", CallState("consulta_chamado", entry=number)),
                  (Speech(text="Chamado número"), Speech(text=number, as_digits=True)),
                  timeout=6)
        reply = Reply(then=ask, cacheable=False)
        document = render(reply, voice, lambda _r: url)
        assert document == library_document(reply, voice, url)
        assert f"Chamado número {' '.join(number)}</Say>".encode() in document
        assert b'action="/t?s=x&amp;a=1"' in document
        assert b">/t?s=x&amp;a=1</Redirect>" in document


@pytest.mark.parametrize(("voice", "finish_on_key"), [
    (Voice(f"Polly{_MARK}5{_MARK}", "pt-BR"), ""),  # reads as a slot past the prompt's texts
    (Voice(f"Polly{_MARK}0{_MARK}", "pt-BR"), ""),  # reads as the first text's slot
    (Voice("Polly.Camila", "pt-BR"), f"{_MARK}3{_MARK}"),
    (Voice("Polly.Camila", f"pt{_MARK}-1{_MARK}"), ""),  # reads as the URL's slot
])
def test_markers_outside_the_values_still_give_the_library_document(
    voice: Voice, finish_on_key: str
) -> None:
    """A marker in the voice or the Gather's settings would be taken for a slot: the document
    is still the library's, every time, and nothing fails."""
    ask = Ask(Resume("tickets.action", CallState("consulta_chamado")),
              (Speech(text="Olá & até"),), timeout=6, finish_on_key=finish_on_key)
    reply = Reply(then=ask, cacheable=False)
    for _ in range(2):
        assert render(reply, voice, lambda _r: "/t") == library_document(reply, voice, "/t")


def test_ticket_prompts_stay_out_of_the_document_cache_also_after_a_change() -> None:
    """A ticket read out, or its menu after accept, postpone or reject, seldom repeats: caching
    it would only push the menus' prompts out of the renderer's cache."""
    menu = load_menu(Path(__file__).resolve().parent.parent / "menus.yaml")
    now = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    ticket = TicketView(id=1, number="12345678", area="educacional",
                        status="solution_proposed", summary="Acesso", solution_at=now,
                        postponed=False, closed_at=None, closed_how=None, specialist=None)
    state = CallState("consulta_chamado", entry=ticket.number)
    assert not flow.ticket_menu(menu, state, ticket, now).cacheable
    for change in ("accept", "postpone", "reject"):
        reply = flow.after_change(menu, state, ticket, change, now)
        assert not reply.cacheable
        assert reply.outcome is not None and reply.outcome.kind == f"ticket_{change}"
