"""The pure phone login dialogue (``auth.flow``) against the shipped ``menus.yaml``, with the time
injected: no Flask, no database, no provider. The login service's answers are made by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from auth import flow
from auth.service import LoginResult, LoginStatus
from ivr import engine
from ivr.actions import Ask, Dial, Hangup, Outcome, Redirect, Reply, Speech
from ivr.menu import Menu, load_menu
from ivr.state import CallState

ROOT = Path(__file__).resolve().parent.parent
MENU = load_menu(ROOT / "menus.yaml")
WORDING = MENU.wording
TUESDAY_10H = datetime.fromisoformat("2026-12-01T10:00:00-03:00")

# On the way to a team that needs a login (2-2-3-9-9-1).
HEADING = CallState(node="educacional", path=("principal", "educacional"))
EDUCACIONAL = "+5511900000001"
TEAM_SAYS = "Vamos transferir você para a equipe TOTVS Educacional. Aguarde, por favor."

OnKeys = Callable[[Menu, CallState, str, int], Reply | flow.Entered]


def asked(reply: Reply) -> Ask:
    assert isinstance(reply, Reply) and isinstance(reply.then, Ask), reply
    return reply.then


def heard(reply: Reply) -> list[Speech]:
    """Everything the caller hears, in order, including speech inside a Gather."""
    return list(reply.speech + (reply.then.speech if isinstance(reply.then, Ask) else ()))


def texts(reply: Reply) -> list[str]:
    return [s.text for s in heard(reply) if s.text]


def assert_asks(reply: Reply, endpoint: str, silences: int = 0,
                state: CallState = HEADING) -> None:
    """A login prompt: '#' ends the entry, no digit count, the silences ride in the URL."""
    ask = asked(reply)
    assert ask.resume.endpoint == endpoint
    assert ask.resume.state == state
    assert ask.resume.params == (("q", str(silences)),)
    assert ask.finish_on_key == "#" and ask.num_digits is None
    assert ask.timeout == (flow.CPF_TIMEOUT if endpoint == flow.CPF_STEP
                           else flow.PASSWORD_TIMEOUT)
    assert reply.outcome is None


def answered(status: LoginStatus, delay: int = 0, first_name: str | None = None) -> LoginResult:
    return LoginResult(status=status, failures_in_call=1, delay_seconds=delay,
                       first_name=first_name)


# --- getting to the login ------------------------------------------------------------------------


def test_the_login_starts_with_the_cpf() -> None:
    reply = flow.at_login(MENU, HEADING, TUESDAY_10H, logged_in=False)
    assert_asks(reply, flow.CPF_STEP)
    assert texts(reply) == [WORDING.login_ask_cpf_spoken]


def test_a_call_already_logged_in_goes_on_without_a_word() -> None:
    reply = flow.at_login(MENU, HEADING, TUESDAY_10H, logged_in=True)
    assert isinstance(reply.then, Dial) and reply.then.target == EDUCACIONAL
    assert texts(reply) == [TEAM_SAYS]


# --- the repeat key ------------------------------------------------------------------------------


def test_the_repeat_key_asks_for_the_cpf_again_keeping_the_silences() -> None:
    reply = flow.on_cpf_keys(MENU, HEADING, " * ", silences=1)
    assert isinstance(reply, Reply)
    assert_asks(reply, flow.CPF_STEP, silences=1)
    assert texts(reply) == [WORDING.login_ask_cpf_spoken]


def test_the_repeat_key_asks_for_the_password_again_keeping_the_silences() -> None:
    reply = flow.on_password_keys(MENU, HEADING, "*", silences=1)
    assert isinstance(reply, Reply)
    assert_asks(reply, flow.PASSWORD_STEP, silences=1)
    assert texts(reply) == [WORDING.login_ask_password]
    assert reply == flow.ask_password(MENU, HEADING, silences=1)


# --- silences ------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyed", ["", "  ", ".-/"])
def test_a_first_silence_at_the_cpf_prompt_is_counted_and_asked_again(keyed: str) -> None:
    reply = flow.on_cpf_keys(MENU, HEADING, keyed, silences=0)
    assert isinstance(reply, Reply)
    assert_asks(reply, flow.CPF_STEP, silences=1)
    assert texts(reply) == [WORDING.login_silence, WORDING.login_ask_cpf_again_spoken]


def test_a_first_silence_at_the_password_prompt_is_counted_and_asked_again() -> None:
    reply = flow.on_password_keys(MENU, HEADING, "", silences=0)
    assert isinstance(reply, Reply)
    assert_asks(reply, flow.PASSWORD_STEP, silences=1)
    assert texts(reply) == [WORDING.login_silence, WORDING.login_ask_password]
    assert not flow.ends_call(reply)


@pytest.mark.parametrize("on_keys", [flow.on_cpf_keys, flow.on_password_keys])
def test_the_second_silence_lets_the_caller_go(on_keys: OnKeys) -> None:
    reply = on_keys(MENU, HEADING, "", flow.MAX_SILENCES - 1)
    assert isinstance(reply, Reply) and isinstance(reply.then, Hangup)
    assert flow.ends_call(reply)
    assert texts(reply) == [WORDING.login_let_go]
    assert reply.outcome == Outcome("gave_up", "login:educacional")


# --- what goes to the database -------------------------------------------------------------------


def test_keys_at_the_cpf_prompt_come_back_normalised_with_their_check_digits_judged() -> None:
    assert flow.on_cpf_keys(MENU, HEADING, "529.982.247-25", 1) == flow.Entered("52998224725")
    assert flow.on_cpf_keys(MENU, HEADING, "52998224700", 0) == flow.Entered("52998224700",
                                                                              valid=False)
    assert flow.on_cpf_keys(MENU, HEADING, "48*913", 0) == flow.Entered("48*913", valid=False)
    assert flow.on_cpf_keys(MENU, HEADING, "1" * 100, 0) == flow.Entered("1" * 32, valid=False)


def test_keys_at_the_password_prompt_come_back_as_keyed_and_never_in_a_repr() -> None:
    entered = flow.on_password_keys(MENU, HEADING, "482913", 1)
    assert entered == flow.Entered("482913")
    assert "482913" not in repr(entered)
    assert flow.on_password_keys(MENU, HEADING, "9" * 100, 0) == flow.Entered("9" * 64)


def test_a_password_with_no_cpf_pending_starts_the_login_over() -> None:
    reply = flow.start_over(MENU, HEADING)
    assert_asks(reply, flow.CPF_STEP)
    assert texts(reply) == [WORDING.login_ask_cpf_spoken]


# --- failures ------------------------------------------------------------------------------------


def test_an_invalid_cpf_is_said_after_the_delay_and_the_cpf_asked_again() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("invalid_cpf", delay=4))
    assert_asks(reply, flow.CPF_STEP)
    assert reply.speech == ()
    # The pause first: the renderer plays leading pauses before the Gather, out of keying's reach.
    assert heard(reply) == [Speech(pause=4), Speech(text=WORDING.login_invalid_cpf),
                            Speech(text=WORDING.login_ask_cpf_again_spoken)]


def test_a_first_failure_has_no_delay() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("invalid_cpf"))
    assert heard(reply) == [Speech(text=WORDING.login_invalid_cpf),
                            Speech(text=WORDING.login_ask_cpf_again_spoken)]


def test_a_wrong_password_is_said_after_the_delay_and_the_cpf_asked_again() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("failed", delay=2))
    assert_asks(reply, flow.CPF_STEP)
    assert heard(reply) == [Speech(pause=2), Speech(text=WORDING.login_failed),
                            Speech(text=WORDING.login_ask_cpf_again_spoken)]


def test_a_locked_contact_sounds_exactly_like_a_wrong_password() -> None:
    locked = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("locked", delay=8))
    assert locked == flow.after_login(MENU, HEADING, TUESDAY_10H, answered("failed", delay=8))


def test_too_many_failures_point_to_the_portal_and_option_7_and_hang_up() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("too_many_in_call", delay=16))
    assert isinstance(reply.then, Hangup)
    assert not any(s.pause for s in heard(reply))
    assert texts(reply) == [
        "CPF ou senha não conferem.",
        "Não foi possível confirmar os seus dados. Para criar uma nova senha, acesse o portal "
        "suporte.totvs.com.br e use a opção Esqueci minha senha. Se precisar de ajuda com o seu "
        "cadastro, ligue para 4003-0015 e tecle 7. Até logo.",
    ]
    assert reply.outcome == Outcome("login_failed", "educacional")


# --- success -------------------------------------------------------------------------------------


def test_a_good_login_welcomes_by_first_name_and_goes_on_to_the_team() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("ok", first_name="Maria"))
    assert isinstance(reply.then, Dial) and reply.then.target == EDUCACIONAL
    assert texts(reply) == ["Obrigado, Maria.", TEAM_SAYS]
    assert reply.outcome == Outcome("transferred", f"educacional:{EDUCACIONAL}")


def test_a_good_login_waits_out_the_line_wide_slowdown_like_a_refusal() -> None:
    """While failures spike on the line, a sprayer must not tell a hit by a missing pause."""
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H,
                             answered("ok", first_name="Maria", delay=8))
    assert reply.speech[0] == Speech(pause=8)
    assert texts(reply) == ["Obrigado, Maria.", TEAM_SAYS]


def test_a_contact_without_a_first_name_is_thanked_all_the_same() -> None:
    reply = flow.after_login(MENU, HEADING, TUESDAY_10H, answered("ok", first_name=""))
    assert texts(reply)[0] == WORDING.login_thanks == "Obrigado."


def test_a_good_login_resumes_the_ticket_the_caller_keyed() -> None:
    state = CallState(node="consulta_chamado", entry="12345678", path=("principal",
                                                                      "consulta_chamado"))
    reply = flow.after_login(MENU, state, TUESDAY_10H, answered("ok", first_name="Maria"))
    assert isinstance(reply.then, Redirect)
    assert reply.then.resume.endpoint == engine.TICKET_STATUS
    assert reply.then.resume.state == state
    assert texts(reply) == ["Obrigado, Maria."]
