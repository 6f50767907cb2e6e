"""Spoken answers at the menus of the shipped ``menus.yaml`` (the pure engine): digits said,
the repeat and main-menu words, a key always winning, doubtful answers asked again, and the
switch that turns speech off."""

from __future__ import annotations

from ivr import engine
from ivr.actions import Ask, Redirect, Reply
from ivr.menu import Menu
from ivr.speech.heard import Heard
from ivr.state import CallState
from tests.test_engine import (
    INVALID,
    LOGGED_IN,
    MENU,
    NOT_LOGGED_IN,
    TUESDAY_10H,
    asked_at,
    at,
    resume_of,
    shipped_menu_with,
    spoken,
)

SURE = "0.93"


def say(text: str, state: CallState, confidence: str | None = SURE, menu: Menu = MENU,
        ctx: engine.CallContext = NOT_LOGGED_IN) -> Reply:
    heard = Heard(speech=text, confidence=float(confidence) if confidence else None)
    return engine.on_answer(menu, state, heard, TUESDAY_10H, ctx)


def main() -> CallState:
    return resume_of(engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN)).state


def test_a_digit_said_is_that_key() -> None:
    assert asked_at(say("dois", main())) == "suporte"
    assert asked_at(say("Opção 2.", main())) == "suporte"


def test_a_ticket_number_said_at_the_main_menu_goes_to_the_ticket() -> None:
    reply = say("um dois três quatro cinco meia sete oito", main(), ctx=LOGGED_IN)
    state = resume_of(reply).state
    assert (state.node, state.entry) == ("consulta_chamado", "12345678")


def test_the_repeat_words_repeat_the_prompt() -> None:
    first = engine.on_keys(MENU, main(), "2", TUESDAY_10H, NOT_LOGGED_IN)
    again = say("pode repetir?", resume_of(first).state)
    assert asked_at(again) == "suporte" and spoken(again) == spoken(first)


def test_main_menu_words_go_back_from_a_submenu() -> None:
    assert asked_at(say("quero voltar ao menu principal", at("linha_rm"))) == "principal"


def test_a_key_always_wins_over_speech() -> None:
    heard = Heard(keys="7", speech="dois", confidence=0.99)
    reply = engine.on_answer(MENU, main(), heard, TUESDAY_10H, NOT_LOGGED_IN)
    assert resume_of(reply).state.node == "cadastro"


def test_an_answer_naming_nothing_is_an_invalid_key() -> None:
    reply = say("banana", at("suporte"))
    assert spoken(reply).startswith(INVALID)
    assert resume_of(reply).state.invalid == 1


def test_a_doubtful_answer_asks_again_naming_the_closest_and_counts() -> None:
    reply = say("menu principal", at("suporte"), confidence="0.2")
    assert spoken(reply).startswith("Não entendi bem. Você quer o menu principal")
    assert asked_at(reply) == "suporte"
    assert resume_of(reply).state.invalid == 1


def test_doubtful_answers_end_like_invalid_keys() -> None:
    reply = say("menu principal", at("suporte", invalid=2), confidence="0.2")
    assert reply.outcome is not None and reply.outcome.kind == "retries_exhausted"


def test_silence_is_still_a_silence() -> None:
    reply = engine.on_answer(MENU, at("suporte"), Heard(), TUESDAY_10H, NOT_LOGGED_IN)
    assert resume_of(reply).state.silence == 1


def test_every_menu_listens_for_speech_in_portuguese() -> None:
    for name in ("principal", "suporte", "oferta_p", "fora_do_horario"):
        ask = engine.enter(MENU, at(name), TUESDAY_10H, LOGGED_IN).then
        assert isinstance(ask, Ask) and ask.listen is not None, name
        assert ask.listen.language == "pt-BR"
    # Keys keep exactly the limits they had: one key, or 8 digits with a short inter-digit wait.
    main_ask = engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN).then
    assert isinstance(main_ask, Ask)
    assert (main_ask.num_digits, main_ask.timeout, main_ask.finish_on_key) == (8, 2, "#")


SPEECH_OFF = shipped_menu_with("  portal: ", "  speech:\n"
                               "    enabled: false\n  portal: ")


def test_the_switch_turns_speech_off_everywhere() -> None:
    ask = engine.start(SPEECH_OFF, TUESDAY_10H, NOT_LOGGED_IN).then
    assert isinstance(ask, Ask) and ask.listen is None
    # A transcription that arrives anyway is ignored: a silence.
    reply = say("dois", resume_of(engine.start(SPEECH_OFF, TUESDAY_10H, NOT_LOGGED_IN)).state,
                menu=SPEECH_OFF)
    assert resume_of(reply).state.silence == 1


def test_speech_to_a_login_node_still_asks_for_the_login() -> None:
    reply = say("um dois três quatro cinco seis sete oito", main())
    assert isinstance(reply.then, Redirect) and reply.then.resume.endpoint == engine.LOGIN
