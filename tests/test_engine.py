"""The pure menu engine against the shipped ``menus.yaml``, with the time injected: no Flask, no
database, no provider."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest

from ivr import engine
from ivr.actions import Ask, Dial, Hangup, Record, Redirect, Reply, Resume
from ivr.menu import Menu, load_menu, parse_menu
from ivr.menu.schema import MenuNode, NodeBase, VoicemailNode
from ivr.state import CallState

ROOT = Path(__file__).resolve().parent.parent
MENU = load_menu(ROOT / "menus.yaml")

NOT_LOGGED_IN = engine.CallContext(is_logged_in=lambda: False)
LOGGED_IN = engine.CallContext(is_logged_in=lambda: True)

TUESDAY_10H = datetime.fromisoformat("2026-12-01T10:00:00-03:00")
SATURDAY_10H = datetime.fromisoformat("2026-12-05T10:00:00-03:00")
SUNDAY_10H = datetime.fromisoformat("2026-12-06T10:00:00-03:00")
CHRISTMAS_10H = datetime.fromisoformat("2026-12-25T10:00:00-03:00")  # a Friday, national holiday
TUESDAY_NIGHT = datetime.fromisoformat("2026-12-01T21:00:00-03:00")

CADASTRO = "+5511900000007"
ON_DUTY = "+5511900000090"
RECEPTION = "+5511900000000"
TEAMS = {"1": "+5511900000001", "2": "+5511900000002", "3": "+5511900000003"}

INVALID = "Opção inválida."
SILENCE = "Não recebemos nenhuma opção."
GOODBYE = MENU.settings.retries.goodbye
MENU_CHANGED = MENU.settings.menu_changed
APOLOGY = MENU.settings.apology


def texts(reply: Reply) -> list[str]:
    """Everything the caller hears, in order, including speech inside a Gather."""
    speech = reply.speech + (reply.then.speech if isinstance(reply.then, Ask) else ())
    return [s.text for s in speech if s.text]


def spoken(reply: Reply) -> str:
    return " ".join(texts(reply))


def at(node: str, *path: str, invalid: int = 0, silence: int = 0) -> CallState:
    return CallState(node=node, invalid=invalid, silence=silence,
                     path=path or ("principal", node))


def walk(keys: str, now: datetime = TUESDAY_10H,
         ctx: engine.CallContext = NOT_LOGGED_IN, menu: Menu = MENU) -> Reply:
    """Start a call and key ``keys`` one at a time, each at a menu."""
    reply = engine.start(menu, now, ctx)
    for key in keys:
        assert isinstance(reply.then, Ask), reply
        reply = engine.on_keys(menu, reply.then.resume.state, key, now, ctx)
    return reply


def dial_target(reply: Reply) -> str:
    assert isinstance(reply.then, Dial), reply
    return reply.then.target


def resume_of(reply: Reply) -> Resume:
    """Where the reply sends the provider back to: every ending but a hang-up has one."""
    assert not isinstance(reply.then, Hangup), reply
    return reply.then.resume


N = TypeVar("N", bound=NodeBase)


def node_of(name: str, kind: type[N]) -> N:
    node = MENU.node(name)
    assert isinstance(node, kind), node
    return node


def asked_at(reply: Reply) -> str:
    assert isinstance(reply.then, Ask), reply
    assert reply.then.resume.endpoint == engine.STEP
    return reply.then.resume.state.node


def shipped_menu_with(old: str, new: str) -> Menu:
    text = (ROOT / "menus.yaml").read_text(encoding="utf-8")
    assert old in text
    return parse_menu(text.replace(old, new, 1), "menus.yaml")


# -- the main menu and option 7 ----------------------------------------------------------------


def test_a_call_starts_at_the_main_menu() -> None:
    reply = engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "principal"
    assert resume_of(reply).state.path == ("principal",)
    assert "tecle 7" in spoken(reply)
    assert reply.outcome is None


def test_option_7_in_hours_dials_the_cadastro_team() -> None:
    reply = walk("7")
    assert dial_target(reply) == CADASTRO
    assert resume_of(reply).endpoint == engine.DIALED
    assert resume_of(reply).state.node == "cadastro"
    assert resume_of(reply).state.path == ("principal", "cadastro")
    assert "equipe de cadastro" in spoken(reply)
    assert reply.outcome is not None
    assert (reply.outcome.kind, reply.outcome.detail) == ("transferred", f"cadastro:{CADASTRO}")


@pytest.mark.parametrize("moment", ["07:00", "07:30", "07:59", "12:00", "12:45", "13:29",
                                    "18:00", "18:30", "18:59"])
def test_plantao_transfers_to_the_on_duty_number(moment: str) -> None:
    now = datetime.fromisoformat(f"2026-12-01T{moment}:00-03:00")
    reply = walk("7", now)
    assert dial_target(reply) == ON_DUTY
    assert reply.outcome is not None and reply.outcome.detail == f"cadastro:{ON_DUTY}"


@pytest.mark.parametrize("moment", ["08:00", "10:00", "11:59", "13:30", "17:59"])
def test_outside_plantao_transfers_to_the_team(moment: str) -> None:
    now = datetime.fromisoformat(f"2026-12-01T{moment}:00-03:00")
    assert dial_target(walk("7", now)) == CADASTRO


def test_the_time_zone_of_now_does_not_matter() -> None:
    # 10:30 UTC is 07:30 in São Paulo: plantão.
    now = datetime.fromisoformat("2026-12-01T10:30:00+00:00")
    assert dial_target(walk("7", now)) == ON_DUTY


# -- closed ------------------------------------------------------------------------------------


def assert_closed_for_cadastro(reply: Reply, reopening: str) -> None:
    assert not isinstance(reply.then, Dial)
    said = spoken(reply)
    assert "fora do horário de atendimento" in said
    assert "de segunda a sexta-feira, das 7h às 19h" in said
    assert f"Reabrimos {reopening}." in said
    assert "suporte.totvs.com.br" in said
    # Self-service is still offered: the fora_do_horario menu listens for a ticket number.
    assert asked_at(reply) == "fora_do_horario"
    assert isinstance(reply.then, Ask) and reply.then.num_digits == 8
    assert resume_of(reply).state.path == ("principal", "cadastro", "fora_do_horario")
    assert reply.outcome is not None
    assert (reply.outcome.kind, reply.outcome.detail) == ("closed", "cadastro")


def test_saturday_is_closed_and_reopens_on_monday() -> None:
    assert_closed_for_cadastro(walk("7", SATURDAY_10H), "segunda-feira às 7h")


def test_sunday_is_closed_and_reopens_monday_at_7() -> None:
    # Monday is the next day: the caller hears "amanhã", which is that Monday at 7h.
    assert_closed_for_cadastro(walk("7", SUNDAY_10H), "amanhã às 7h")


def test_weekday_night_is_closed_and_reopens_next_morning() -> None:
    assert_closed_for_cadastro(walk("7", TUESDAY_NIGHT), "amanhã às 7h")


def test_weekday_before_opening_reopens_today() -> None:
    assert_closed_for_cadastro(walk("7", datetime.fromisoformat("2026-12-01T06:59:00-03:00")),
                               "hoje às 7h")


def test_national_holiday_is_closed_all_day_and_reopens_on_monday() -> None:
    for moment in ("07:30", "10:00", "12:30", "18:30"):  # plantão windows too
        now = datetime.fromisoformat(f"2026-12-25T{moment}:00-03:00")
        reply = walk("7", now)
        # Friday 25 December 2026 -> Monday 28 December at 7h (the weekend in between).
        assert_closed_for_cadastro(reply, "segunda-feira às 7h")


def test_christmas_reopening_is_monday_the_28th() -> None:
    spec = MENU.schedules["suporte"]
    from ivr.schedule import next_opening

    opening = next_opening(spec, CHRISTMAS_10H)
    assert opening is not None
    assert opening.isoformat() == "2026-12-28T07:00:00-03:00"


def test_state_holiday_serves_only_the_plantao_windows() -> None:
    # 9 July: Revolução Constitucionalista, a São Paulo state holiday (a Thursday in 2026).
    closed = walk("7", datetime.fromisoformat("2026-07-09T10:00:00-03:00"))
    assert_closed_for_cadastro(closed, "hoje às 12h")
    for moment in ("07:30", "12:30", "18:30"):
        reply = walk("7", datetime.fromisoformat(f"2026-07-09T{moment}:00-03:00"))
        assert dial_target(reply) == ON_DUTY, moment
    late = walk("7", datetime.fromisoformat("2026-07-09T16:00:00-03:00"))
    assert_closed_for_cadastro(late, "hoje às 18h")


def test_city_holiday_serves_only_the_plantao_windows() -> None:
    # 25 January 2027 (aniversário de São Paulo, a Monday), from the menu's local list.
    assert_closed_for_cadastro(walk("7", datetime.fromisoformat("2027-01-25T10:00:00-03:00")),
                               "hoje às 12h")
    assert dial_target(walk("7", datetime.fromisoformat("2027-01-25T12:30:00-03:00"))) == ON_DUTY


def test_closed_without_when_closed_says_goodbye_and_hangs_up() -> None:
    menu = shipped_menu_with("    on_unanswered: recado\n    when_closed: fora_do_horario\n\n"
                             "  educacional:",
                             "    on_unanswered: recado\n\n  educacional:")
    reply = walk("7", SATURDAY_10H, menu=menu)
    assert isinstance(reply.then, Hangup)
    assert "Reabrimos segunda-feira às 7h." in spoken(reply)
    assert spoken(reply).endswith("Até logo.")
    assert reply.outcome is not None and reply.outcome.kind == "closed"


# -- retries -----------------------------------------------------------------------------------


def test_an_invalid_key_is_counted_and_reprompted_short() -> None:
    reply = walk("5")
    assert asked_at(reply) == "principal"
    state = resume_of(reply).state
    assert (state.invalid, state.silence) == (1, 0)
    assert texts(reply)[0] == INVALID
    assert spoken(reply) == f"{INVALID} {node_of('principal', MenuNode).short_prompt}"
    assert reply.outcome is None


def test_silence_is_counted_separately() -> None:
    start = engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN)
    reply = engine.on_keys(MENU, resume_of(start).state, None, TUESDAY_10H, NOT_LOGGED_IN)
    reply = engine.on_keys(MENU, resume_of(reply).state, "", TUESDAY_10H, NOT_LOGGED_IN)
    reply = engine.on_keys(MENU, resume_of(reply).state, "5", TUESDAY_10H, NOT_LOGGED_IN)
    state = resume_of(reply).state
    assert (state.invalid, state.silence) == (1, 2)
    assert texts(reply)[0] == INVALID


def test_silence_reprompts_with_the_silence_message() -> None:
    reply = engine.on_keys(MENU, at("suporte"), "  ", TUESDAY_10H, NOT_LOGGED_IN)
    assert texts(reply)[0] == SILENCE
    assert resume_of(reply).state.silence == 1


def test_third_invalid_key_in_hours_gives_up_to_a_person() -> None:
    reply = walk("55")
    assert asked_at(reply) == "principal" and resume_of(reply).state.invalid == 2
    reply = engine.on_keys(MENU, resume_of(reply).state, "5", TUESDAY_10H, NOT_LOGGED_IN)
    assert dial_target(reply) == RECEPTION
    assert resume_of(reply).state.node == "atendente"
    assert texts(reply)[0] == INVALID
    assert reply.outcome is not None
    assert (reply.outcome.kind, reply.outcome.detail) == ("retries_exhausted", "principal")


def test_give_up_in_plantao_goes_to_the_on_duty_line() -> None:
    now = datetime.fromisoformat("2026-12-01T12:45:00-03:00")
    reply = engine.on_keys(MENU, at("suporte", invalid=2), "8", now, NOT_LOGGED_IN)
    assert dial_target(reply) == ON_DUTY
    assert reply.outcome is not None and reply.outcome.kind == "retries_exhausted"


def test_third_silence_when_closed_says_goodbye_and_hangs_up() -> None:
    reply = engine.on_keys(MENU, at("oferta_p", silence=2), None, SATURDAY_10H, NOT_LOGGED_IN)
    assert isinstance(reply.then, Hangup)
    assert texts(reply) == [SILENCE, GOODBYE]
    assert reply.outcome is not None
    assert (reply.outcome.kind, reply.outcome.detail) == ("retries_exhausted", "oferta_p")


def test_retry_limits_come_from_the_settings() -> None:
    menu = shipped_menu_with("max_invalid: 3", "max_invalid: 1")
    reply = walk("5", menu=menu)
    assert dial_target(reply) == RECEPTION
    menu = shipped_menu_with("max_silence: 3", "max_silence: 5")
    state = at("suporte", silence=3)
    reply = engine.on_keys(menu, state, None, TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "suporte" and resume_of(reply).state.silence == 4
    reply = engine.on_keys(menu, resume_of(reply).state, None, TUESDAY_10H, NOT_LOGGED_IN)
    assert dial_target(reply) == RECEPTION


def test_a_node_may_override_the_limits() -> None:
    menu = shipped_menu_with('    intro: "Suporte técnico."',
                             '    max_invalid: 1\n    intro: "Suporte técnico."')
    reply = engine.on_keys(menu, at("suporte"), "9", TUESDAY_10H, NOT_LOGGED_IN)
    assert dial_target(reply) == RECEPTION
    # Other menus keep the file's limit.
    assert asked_at(engine.on_keys(menu, at("linha_rm"), "9", TUESDAY_10H, NOT_LOGGED_IN)) \
        == "linha_rm"


def test_give_up_without_a_person_node_says_goodbye() -> None:
    # (atendente stays reachable through an extra option, or the file would be refused)
    text = (ROOT / "menus.yaml").read_text(encoding="utf-8")
    old = '      "2": {label: a linha de produtos RM, goto: linha_rm}\n'
    assert old in text
    text = text.replace("    give_up_node: atendente", "").replace(
        old, old + '      "4": {label: falar com um atendente, goto: atendente}\n')
    menu = parse_menu(text, "menus.yaml")
    assert menu.settings.retries.give_up_node is None
    reply = engine.on_keys(menu, at("suporte", invalid=2), "9", TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(reply.then, Hangup)
    assert texts(reply) == [INVALID, GOODBYE]


# -- repeat, main menu, direct entry -----------------------------------------------------------


def test_star_repeats_the_full_prompt_and_keeps_the_counters() -> None:
    state = at("oferta_p", invalid=1, silence=1)
    reply = engine.on_keys(MENU, state, "*", TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "oferta_p"
    assert resume_of(reply).state == state
    assert spoken(reply) == node_of("oferta_p", MenuNode).prompt


def test_zero_goes_back_to_the_main_menu_from_a_submenu() -> None:
    state = at("ofertas", "principal", "suporte", "linha_rm", "educacao", "ofertas", invalid=2)
    reply = engine.on_keys(MENU, state, "0", TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "principal"
    new = resume_of(reply).state
    assert (new.invalid, new.silence) == (0, 0)
    assert new.path == (*state.path, "principal")
    assert spoken(reply) == node_of("principal", MenuNode).prompt


def test_zero_at_the_main_menu_is_an_invalid_key() -> None:
    reply = walk("0")
    assert asked_at(reply) == "principal"
    assert texts(reply)[0] == INVALID


def test_the_222399_chain_reaches_the_oferta_p_menu() -> None:
    reply = walk("22399")
    assert asked_at(reply) == "oferta_p"
    assert resume_of(reply).state.path == (
        "principal", "suporte", "linha_rm", "educacao", "ofertas", "oferta_p")


def test_eight_digits_at_the_main_menu_carry_the_ticket_number() -> None:
    reply = walk("")
    reply = engine.on_keys(MENU, resume_of(reply).state, "12345678", TUESDAY_10H, LOGGED_IN)
    assert isinstance(reply.then, Redirect)
    assert resume_of(reply).endpoint == engine.TICKET_STATUS
    state = resume_of(reply).state
    assert (state.node, state.entry) == ("consulta_chamado", "12345678")
    assert state.path == ("principal", "consulta_chamado")


def test_eight_digits_without_a_login_go_to_the_login_with_the_entry() -> None:
    reply = engine.on_keys(MENU, at("principal", "principal"), "87654321", TUESDAY_10H,
                           NOT_LOGGED_IN)
    assert isinstance(reply.then, Redirect)
    assert resume_of(reply).endpoint == engine.LOGIN
    assert resume_of(reply).state.node == "consulta_chamado"
    assert resume_of(reply).state.entry == "87654321"


def test_the_main_menu_listens_for_eight_digits_ended_by_hash() -> None:
    ask = engine.start(MENU, TUESDAY_10H, NOT_LOGGED_IN).then
    assert isinstance(ask, Ask)
    assert (ask.num_digits, ask.finish_on_key, ask.timeout) == (8, "#", 2)
    assert ask.timeout + ask.listen_after == MENU.settings.retries.timeout


def test_a_menu_without_direct_entry_takes_one_key() -> None:
    ask = walk("2").then
    assert isinstance(ask, Ask)
    assert (ask.num_digits, ask.finish_on_key, ask.timeout) == (1, "", 6)


@pytest.mark.parametrize("keys", ["1234567", "123456789", "1234567a", "12"])
def test_wrong_length_entries_are_invalid(keys: str) -> None:
    reply = engine.on_keys(MENU, at("principal", "principal"), keys, TUESDAY_10H, LOGGED_IN)
    assert asked_at(reply) == "principal"
    assert texts(reply)[0] == INVALID


def test_closed_menu_still_accepts_a_ticket_number() -> None:
    reply = engine.on_keys(MENU, at("fora_do_horario"), "12345678", SATURDAY_10H, LOGGED_IN)
    assert isinstance(reply.then, Redirect)
    assert resume_of(reply).endpoint == engine.TICKET_STATUS
    assert resume_of(reply).state.entry == "12345678"


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["1", "2", "3"])
def test_team_nodes_need_a_login(key: str) -> None:
    calls: list[bool] = []

    def not_yet() -> bool:
        calls.append(True)
        return False

    reply = walk("22399" + key, ctx=engine.CallContext(is_logged_in=not_yet))
    assert isinstance(reply.then, Redirect)
    assert resume_of(reply).endpoint == engine.LOGIN
    assert resume_of(reply).state.node == {"1": "educacional", "2": "gestao_financeira",
                                            "3": "nfe"}[key]
    assert reply.outcome is None
    assert calls == [True]  # asked once, only at the node that needs it


@pytest.mark.parametrize("key", ["1", "2", "3"])
def test_team_nodes_dial_once_logged_in(key: str) -> None:
    reply = walk("22399" + key, ctx=LOGGED_IN)
    assert dial_target(reply) == TEAMS[key]


def test_plain_menu_steps_never_ask_about_the_login() -> None:
    def boom() -> bool:
        raise AssertionError("login looked up for a step that does not need it")

    reply = walk("22399", ctx=engine.CallContext(is_logged_in=boom))
    assert asked_at(reply) == "oferta_p"
    assert dial_target(walk("7", ctx=engine.CallContext(is_logged_in=boom))) == CADASTRO


def test_logged_in_team_outside_hours_is_closed() -> None:
    reply = walk("223991", SATURDAY_10H, LOGGED_IN)
    assert not isinstance(reply.then, Dial)
    assert asked_at(reply) == "fora_do_horario"
    assert reply.outcome is not None
    assert (reply.outcome.kind, reply.outcome.detail) == ("closed", "educacional")


# -- dial results, recordings ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled", None, "BUSY "])
def test_unanswered_transfer_falls_back_to_voicemail(status: str | None) -> None:
    state = at("cadastro")
    reply = engine.on_dial_result(MENU, state, status, TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(reply.then, Record)
    assert resume_of(reply).endpoint == engine.RECORDED
    assert resume_of(reply).state.node == "recado"
    assert reply.then.max_length == 120
    assert "Deixe seu nome" in spoken(reply)
    assert reply.outcome is not None and reply.outcome.kind == "unanswered"
    assert reply.outcome.detail.startswith("cadastro:")


@pytest.mark.parametrize("status", ["completed", "answered", "Completed"])
def test_answered_transfer_hangs_up(status: str) -> None:
    reply = engine.on_dial_result(MENU, at("cadastro"), status, TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(reply.then, Hangup)
    assert reply.speech == ()


def test_specific_fallbacks_win_over_on_unanswered() -> None:
    menu = shipped_menu_with("    on_unanswered: recado\n    when_closed: fora_do_horario\n\n"
                             "  educacional:",
                             "    on_unanswered: recado\n    on_busy: atendente\n"
                             "    when_closed: fora_do_horario\n\n  educacional:")
    busy = engine.on_dial_result(menu, at("cadastro"), "busy", TUESDAY_10H, NOT_LOGGED_IN)
    assert dial_target(busy) == RECEPTION
    other = engine.on_dial_result(menu, at("cadastro"), "no-answer", TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(other.then, Record)


def test_dial_result_for_a_node_that_is_not_a_transfer_restarts() -> None:
    reply = engine.on_dial_result(MENU, at("suporte"), "busy", TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "principal"
    assert texts(reply)[0] == MENU_CHANGED


def test_a_recording_thanks_and_hangs_up() -> None:
    reply = engine.on_recording(MENU, at("recado"), "https://example.com/rec/RE1")
    assert isinstance(reply.then, Hangup)
    assert texts(reply) == [node_of("recado", VoicemailNode).thanks]
    assert reply.outcome is not None
    assert reply.outcome.kind == "voicemail"
    assert reply.outcome.detail == "recado:https://example.com/rec/RE1"


# -- a menu that changed under a call ----------------------------------------------------------


@pytest.mark.parametrize("handler", ["keys", "enter", "dialed"])
def test_a_vanished_node_restarts_at_the_main_menu_with_an_apology(handler: str) -> None:
    state = CallState(node="no_longer_here", path=("principal", "no_longer_here"))
    if handler == "keys":
        reply = engine.on_keys(MENU, state, "1", TUESDAY_10H, NOT_LOGGED_IN)
    elif handler == "enter":
        reply = engine.enter(MENU, state, TUESDAY_10H, NOT_LOGGED_IN)
    else:
        reply = engine.on_dial_result(MENU, state, "busy", TUESDAY_10H, NOT_LOGGED_IN)
    assert asked_at(reply) == "principal"
    assert texts(reply)[0] == MENU_CHANGED
    assert spoken(reply) == f"{MENU_CHANGED} {node_of('principal', MenuNode).prompt}"
    assert resume_of(reply).state.path == ("principal",)


def test_keys_posted_to_a_transfer_node_carry_on_from_there() -> None:
    reply = engine.on_keys(MENU, at("cadastro"), "1", TUESDAY_10H, NOT_LOGGED_IN)
    assert dial_target(reply) == CADASTRO


# -- failures ----------------------------------------------------------------------------------


def test_on_failure_in_hours_apologises_and_transfers_to_a_person() -> None:
    reply = engine.on_failure(MENU, TUESDAY_10H)
    assert dial_target(reply) == RECEPTION
    assert texts(reply)[0] == APOLOGY
    assert reply.outcome is not None and reply.outcome.kind == "error"


def test_on_failure_in_plantao_transfers_to_the_on_duty_line() -> None:
    reply = engine.on_failure(MENU, datetime.fromisoformat("2026-12-01T07:30:00-03:00"))
    assert dial_target(reply) == ON_DUTY


@pytest.mark.parametrize("now", [SATURDAY_10H, CHRISTMAS_10H, TUESDAY_NIGHT])
def test_on_failure_out_of_hours_apologises_and_hangs_up(now: datetime) -> None:
    reply = engine.on_failure(MENU, now)
    assert isinstance(reply.then, Hangup)
    assert texts(reply)[0] == APOLOGY
    assert "ligue novamente" in spoken(reply)
    assert reply.outcome is not None and reply.outcome.kind == "error"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        walk("7", datetime(2026, 12, 1, 10, 0))
