"""Spoken answers at the menus of the shipped ``menus.yaml`` (the pure engine): digits said,
the repeat and main-menu words, a key always winning, doubtful answers asked again, and the
switch that turns speech off."""

from __future__ import annotations

import pytest

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
    SATURDAY_10H,
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


SPEECH_OFF = shipped_menu_with("    enabled: true", "    enabled: false")


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


# -- options by their synonyms, and deep options from the main menu -----------------------------

TEAMS = {"educacional": "+5511900000001", "gestao_financeira": "+5511900000002",
         "nfe": "+5511900000003"}
DOWN_TO_OFERTA_P = ("principal", "suporte", "linha_rm", "educacao", "ofertas", "oferta_p")


def test_a_synonym_at_its_own_menu_is_its_key() -> None:
    reply = say("é sobre um boleto atrasado", at("oferta_p", *DOWN_TO_OFERTA_P), ctx=LOGGED_IN)
    assert reply.outcome is not None and reply.outcome.detail.endswith(TEAMS["gestao_financeira"])


@pytest.mark.parametrize(("said", "team"), [
    ("financeiro", "gestao_financeira"),
    ("Eu quero falar com o financeiro.", "gestao_financeira"),
    ("boletos", "gestao_financeira"),
    ("notas fiscais", "nfe"),
    ("NFS-e", "nfe"),
    ("rematrícula", "educacional"),
])
def test_a_deep_option_from_the_main_menu_logs_in_first_then_reaches_its_team(
    said: str, team: str
) -> None:
    reply = say(said, main())
    assert isinstance(reply.then, Redirect) and reply.then.resume.endpoint == engine.LOGIN
    state = reply.then.resume.state
    # Every menu on the way is in the call's path, as if the caller had keyed 2-2-3-9-9-x.
    assert state.node == team and state.path == (*DOWN_TO_OFERTA_P, team)
    after_login = engine.enter(MENU, state, TUESDAY_10H, LOGGED_IN)
    assert after_login.outcome is not None
    assert after_login.outcome.detail == f"{team}:{TEAMS[team]}"


def test_a_deep_option_outside_hours_says_so_before_any_login() -> None:
    reply = engine.on_answer(MENU, main(), Heard(speech="financeiro", confidence=0.9),
                             SATURDAY_10H, NOT_LOGGED_IN)
    assert "fora do horário" in spoken(reply)
    assert reply.outcome is not None and reply.outcome.kind == "closed"


def test_a_login_asked_by_a_menu_on_the_way_is_asked_for_a_deep_option() -> None:
    # linha_rm needs a login; educacao below it does not: naming educacao still logs in first.
    menu = shipped_menu_with("  linha_rm:\n    type: menu\n",
                             "  linha_rm:\n    type: menu\n    auth: true\n")
    reply = say("segmento de educação", main(), menu=menu)
    assert isinstance(reply.then, Redirect) and reply.then.resume.endpoint == engine.LOGIN
    assert reply.then.resume.state.node == "educacao"
    assert asked_at(say("segmento de educação", main(), menu=menu, ctx=LOGGED_IN)) == "educacao"


def test_deep_options_are_offered_at_the_main_menu_only() -> None:
    reply = say("financeiro", at("suporte"))
    assert spoken(reply).startswith(INVALID) and asked_at(reply) == "suporte"


def test_the_hints_name_what_each_menu_takes() -> None:
    main_ask = engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN).then
    assert isinstance(main_ask, Ask) and main_ask.listen is not None
    main_hints = main_ask.listen.hints.split(", ")
    assert {"cadastro", "financeiro", "nota fiscal", "repetir"} <= set(main_hints)
    assert "menu principal" not in main_hints  # already there
    ask = engine.enter(MENU, at("oferta_p", *DOWN_TO_OFERTA_P), TUESDAY_10H, LOGGED_IN).then
    assert isinstance(ask, Ask) and ask.listen is not None
    assert "boleto" in ask.listen.hints and "cadastro" not in ask.listen.hints


def test_two_options_named_are_offered_back_by_their_labels() -> None:
    reply = say("financeiro ou cadastro", main())
    asked = spoken(reply).split("?")[0]
    assert asked in ("Não entendi bem. Você quer Gestão Financeira ou ativação de cadastro",
                     "Não entendi bem. Você quer ativação de cadastro ou Gestão Financeira")
    assert resume_of(reply).state.invalid == 1


@pytest.mark.parametrize(("said", "node"), [
    ("cadastro", "cadastro"),
    ("Bom dia, é para ativação de cadastro.", "cadastro"),
    ("esqueci a senha do portal", "cadastro"),
    ("quero consultar um chamado", "consulta_chamado"),
    ("o andamento do meu chamado", "consulta_chamado"),
    ("suporte técnico", "suporte"),
    ("oferta P educacional", "oferta_p"),
    ("Financeiro", "gestao_financeira"),
    ("mensalidades", "gestao_financeira"),
    ("queria ver a bolsa de um aluno", "gestao_financeira"),
    ("contas a receber", "gestao_financeira"),
    ("nota fiscal eletrônica", "nfe"),
    ("emissão de nota fiscal de serviço", "nfe"),
    ("frequência dos alunos", "educacional"),
    ("portal do aluno", "educacional"),
    ("as notas do boletim", "educacional"),
])
def test_what_callers_say_at_the_main_menu_takes_them_where_they_meant(said: str,
                                                                      node: str) -> None:
    reply = say(said, main(), ctx=LOGGED_IN)
    assert resume_of(reply).state.node == node, spoken(reply)
