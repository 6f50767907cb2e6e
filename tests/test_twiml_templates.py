"""Ask documents filled from a template per prompt shape equal the same documents built through
``VoiceResponse``, for any texts, recordings, pauses, Gather settings and action URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.actions import Ask, Listen, Reply, Resume, Speech
from ivr.menu.loader import load_menu
from ivr.prompt_templates import _MARK, template_for
from ivr.rendering import render
from ivr.state import CallState
from ivr.twiml import Voice, build
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
    listen=st.one_of(st.none(), st.builds(
        Listen, language=st.one_of(st.just("pt-BR"), slot_like),
        hints=st.one_of(st.just(""), any_text, slot_like),
        timeout=st.sampled_from(["auto", "3"]))),
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

    expected = build(reply, voice, url_for).encode("utf-8", "xmlcharrefreplace")
    assert render(reply, voice, url_for) == expected


def test_prompts_of_one_shape_are_filled_from_a_template_with_their_own_values() -> None:
    voice = Voice("Polly.Camila", "pt-BR")
    shape = ((0, "", False), (0, "", False))
    assert template_for(shape, 6, 1, "", 0, voice) is not None
    for number in ("12345678", "87654321"):
        ask = Ask(Resume("tickets.action", CallState("consulta_chamado", entry=number)),
                  (Speech(text="Chamado número"), Speech(text=number, as_digits=True)),
                  timeout=6)
        reply = Reply(then=ask, cacheable=False)
        document = render(reply, voice, lambda _r: "/t?s=x&a=1")
        assert document == build(reply, voice, lambda _r: "/t?s=x&a=1").encode()
        assert " ".join(number).encode() in document
        assert b'action="/t?s=x&amp;a=1"' in document
        assert b">/t?s=x&amp;a=1</Redirect>" in document


def test_a_slot_index_out_of_range_refuses_the_template_instead_of_failing() -> None:
    voice = Voice(f"Polly{_MARK}5{_MARK}", "pt-BR")
    assert template_for(((0, "", False),), 6, 1, "", 0, voice) is None
    assert template_for(((0, "", False),), 6, 1, f"{_MARK}3{_MARK}",
                         0, Voice("Polly.Camila", "pt-BR")) is None


def test_a_shape_whose_template_cannot_be_trusted_is_built_every_time() -> None:
    """A marker in the voice's name would be taken for a slot: the check refuses the template
    and the document is built through the library, still correct."""
    voice = Voice(f"Polly{_MARK}0{_MARK}", "pt-BR")
    ask = Ask(Resume("tickets.action", CallState("consulta_chamado")),
              (Speech(text="Olá & até"),), timeout=6)
    assert template_for(((0, "", False),), 6, 1, "", 0, voice) is None
    reply = Reply(then=ask, cacheable=False)
    assert render(reply, voice, lambda _r: "/t") == build(reply, voice, lambda _r: "/t").encode(
        "utf-8", "xmlcharrefreplace")


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
