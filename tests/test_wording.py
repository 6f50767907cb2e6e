"""What callers hear comes from ``menus.yaml``: prompts built from the options' labels, and every
sentence that names a key, the hours or the portal following an edit of the file. Pure: the
engine and the login and ticket dialogues, with the time injected."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from auth import flow as login_flow
from auth.service import LoginResult
from ivr import engine
from ivr.actions import Ask, Record, Reply
from ivr.menu import Menu, MenuError, parse_menu
from ivr.menu.placeholders import LINE_PLACEHOLDERS, names_in
from ivr.menu.schema import MenuNode, Option, VoicemailNode
from ivr.menu.wording import Wording, call_fields
from ivr.state import CallState
from ivr.twiml import Voice, build
from tickets import flow as ticket_flow
from tickets.lookup import TicketView

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "menus.yaml").read_text(encoding="utf-8")
TUESDAY_10H = datetime.fromisoformat("2026-12-01T10:00:00-03:00")
TUESDAY_18H30 = datetime.fromisoformat("2026-12-01T18:30:00-03:00")
NOT_LOGGED_IN = engine.CallContext()
HEADING = CallState(node="educacional", path=("principal", "educacional"))

# What the shipped main menu said when its prompt was written whole: the labels say it again.
MAIN_PROMPT = (
    "Olá, você ligou para o atendimento TOTVS. "
    "Se você já tem o número do chamado, digite agora os oito dígitos. "
    "Para ativação de cadastro, acesso ao portal do cliente ou e-mail cadastrado, tecle 7. "
    "Para suporte técnico, tecle 2. "
    "Para consultar um chamado, tecle 1. "
    "Para ouvir de novo, tecle asterisco."
)


def edited(*changes: tuple[str, str]) -> Menu:
    text = SHIPPED
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return parse_menu(text, "menus.yaml")


SHIPPED_MENU = edited()
MAIN_KEY_8 = ('  main_menu_key: "0"', '  main_menu_key: "8"')
# The registration option moves from 7 to 5; the hand-written short prompt follows.
REGISTRATION_ON_5 = [
    ('      "7":\n        label: "ativação', '      "5":\n        label: "ativação'),
    ('"Cadastro, tecle 7.', '"Cadastro, tecle 5.'),
]
HOURS_8_TO_18 = ('      mon-fri: "07:00-19:00"', '      mon-fri: "08:00-18:00"')


def texts(reply: Reply) -> list[str]:
    speech = reply.speech + (reply.then.speech if isinstance(reply.then, Ask) else ())
    return [s.text for s in speech if s.text]


def spoken(reply: Reply) -> str:
    return " ".join(texts(reply))


def menu_node(menu: Menu, name: str) -> MenuNode:
    node = menu.node(name)
    assert isinstance(node, MenuNode)
    return node


def too_many(menu: Menu) -> str:
    result = LoginResult(status="too_many_in_call", failures_in_call=3, delay_seconds=0,
                         first_name=None)
    return spoken(login_flow.after_login(menu, HEADING, TUESDAY_10H, result))


# -- prompts built from labels -------------------------------------------------------------------


def test_the_shipped_main_menu_built_from_its_labels_says_what_it_always_said() -> None:
    assert menu_node(SHIPPED_MENU, "principal").prompt == MAIN_PROMPT
    assert spoken(engine.start(SHIPPED_MENU, TUESDAY_10H, NOT_LOGGED_IN)) == MAIN_PROMPT


def test_a_submenu_built_from_its_labels_offers_the_way_back_and_the_repeat_key() -> None:
    node = menu_node(SHIPPED_MENU, "oferta_p")
    assert node.prompt == (
        "Oferta P Educacional. "
        "Para TOTVS Educacional, como matrículas, notas, frequência e portal do aluno, tecle 1. "
        "Para Gestão Financeira, como boletos, bolsas e contas a receber, tecle 2. "
        "Para nota fiscal eletrônica de serviços, tecle 3. "
        "Para voltar ao menu principal, tecle 0. "
        "Para ouvir de novo, tecle asterisco.")
    # No short prompt in the file: the same lines without the intro and the repeat key.
    suporte = menu_node(SHIPPED_MENU, "suporte")
    assert suporte.short_prompt == (
        "Para a linha de produtos RM, tecle 2. Para voltar ao menu principal, tecle 0.")


def test_a_retry_says_the_built_short_prompt() -> None:
    reply = engine.on_keys(SHIPPED_MENU, CallState(node="suporte", path=("principal", "suporte")),
                           "5", TUESDAY_10H, NOT_LOGGED_IN)
    assert texts(reply) == ["Opção inválida.", "Para a linha de produtos RM, tecle 2. "
                            "Para voltar ao menu principal, tecle 0."]


def test_the_built_prompt_follows_the_wording_of_its_lines() -> None:
    menu = edited(("nodes:\n", "wording:\n"
                   '  menu_option: "{label}: tecla {key}."\n'
                   '  menu_repeat: ""\n'
                   "nodes:\n"))
    assert menu_node(menu, "ofertas").prompt == (
        "Ofertas. a Oferta P Educacional: tecla 9. Para voltar ao menu principal, tecle 0.")


def test_an_option_in_the_short_form_is_an_option_without_a_label() -> None:
    node = MenuNode.model_validate({"type": "menu", "options": {
        "1": "vendas", "2": {"goto": "suporte", "label": "suporte", "synonyms": ["ajuda"]}}})
    assert node.options == {"1": Option(goto="vendas"),
                            "2": Option(goto="suporte", label="suporte", synonyms=["ajuda"])}
    with pytest.raises(ValueError, match="synonyms"):
        Option.model_validate({"goto": "vendas", "synonyms": ["  "]})
    with pytest.raises(ValueError, match="synonyms"):
        Option.model_validate({"goto": "vendas", "synonyms": "vendas"})


# -- sentences following the file ---------------------------------------------------------------


def test_a_new_main_menu_key_is_said_wherever_the_way_back_is() -> None:
    menu = edited(MAIN_KEY_8)
    suporte = engine.on_keys(menu, CallState(node="principal", path=("principal",)), "2",
                             TUESDAY_10H, NOT_LOGGED_IN)
    assert "Para voltar ao menu principal, tecle 8." in spoken(suporte)
    # The menu offered after the closed hours, whose short prompt names it as a placeholder.
    closed = menu_node(menu, "fora_do_horario")
    assert closed.short_prompt == "Digite o número do chamado, ou tecle 8 para o menu principal."
    assert "tecle 8" in str(closed.prompt)
    # The ticket dialogue's options and its offer to leave a message.
    assert ticket_flow.options(menu, _ticket(), TUESDAY_10H).endswith(
        "Para ouvir de novo, tecle asterisco. Para voltar ao menu principal, tecle 8.")
    offer = spoken(ticket_flow.offer_message(menu, HEADING, ()))
    assert "tecle 8" in offer
    for text in (spoken(suporte), str(closed.prompt), str(closed.short_prompt), offer,
                 ticket_flow.options(menu, _ticket(), TUESDAY_10H)):
        assert "tecle 0" not in text
    # And 8 does take the caller back.
    back = engine.on_keys(menu, CallState(node="suporte", path=("principal", "suporte")), "8",
                          TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(back.then, Ask) and back.then.resume.state.node == "principal"


def test_a_moved_registration_option_is_said_in_the_login_failure() -> None:
    assert "ligue para 4003-0015 e tecle 7. Até logo." in too_many(SHIPPED_MENU)
    menu = edited(*REGISTRATION_ON_5)
    said = too_many(menu)
    assert "ligue para 4003-0015 e tecle 5. Até logo." in said and "tecle 7" not in said
    assert "Para ativação de cadastro, acesso ao portal do cliente ou e-mail cadastrado, " \
           "tecle 5." in str(menu_node(menu, "principal").prompt)


def test_moving_an_option_without_the_prompt_that_names_it_is_refused() -> None:
    with pytest.raises(MenuError) as refused:
        edited(REGISTRATION_ON_5[0])
    line = SHIPPED.splitlines().index(
        next(line for line in SHIPPED.splitlines() if line.startswith("    short_prompt: \"Cad"))
    ) + 1
    assert [str(problem) for problem in refused.value.problems] == [
        f"menus.yaml:{line}: the short_prompt says 'tecle 7', but this menu has no key 7",
        f"menus.yaml:{line}: the short_prompt never names option 5 (cadastro)",
    ]


def test_without_a_registration_option_the_login_failure_leaves_that_help_out() -> None:
    menu = edited(("    cadastro: cadastro\n", ""))
    said = too_many(menu)
    assert "cadastro" not in said and said.endswith("Esqueci minha senha. Até logo.")


def test_new_hours_are_said_when_the_line_is_closed() -> None:
    reply = engine.on_keys(SHIPPED_MENU, CallState(node="principal", path=("principal",)), "7",
                           TUESDAY_18H30, NOT_LOGGED_IN)
    assert reply.outcome is not None and reply.outcome.kind == "transferred"
    menu = edited(HOURS_8_TO_18)
    reply = engine.on_keys(menu, CallState(node="principal", path=("principal",)), "7",
                           TUESDAY_18H30, NOT_LOGGED_IN)
    assert texts(reply)[:4] == [
        "No momento estamos fora do horário de atendimento.",
        "Nosso atendimento funciona de segunda a sexta-feira, das 8h às 18h, exceto feriados.",
        "Reabrimos amanhã às 8h.",
        "Você também pode abrir e acompanhar chamados pelo portal suporte.totvs.com.br.",
    ]


def test_a_sentence_reworded_in_the_file_names_the_lines_values() -> None:
    menu = edited(HOURS_8_TO_18, MAIN_KEY_8,
                  ("  portal: suporte.totvs.com.br", "  portal: ajuda.exemplo.com.br"),
                  ("nodes:\n", "wording:\n"
                   '  closed_portal: "Atendemos {hours}; fora disso, {portal}.'
                   ' Menu, {main_menu_key}."\n'
                   '  closed_reopening: ""\n'
                   '  login_welcome: "Bem-vinda, {name}! {{sic}}"\n'
                   "nodes:\n"))
    reply = engine.on_keys(menu, CallState(node="principal", path=("principal",)), "7",
                           TUESDAY_18H30, NOT_LOGGED_IN)
    said = texts(reply)
    assert said[2] == ("Atendemos de segunda a sexta-feira, das 8h às 18h, exceto feriados; "
                       "fora disso, ajuda.exemplo.com.br. Menu, 8.")
    assert not any(text.startswith("Reabrimos") for text in said)  # an empty sentence is not said
    welcome = login_flow.after_login(menu, CallState(node="consulta_chamado"), TUESDAY_10H,
                                     LoginResult(status="ok", failures_in_call=0,
                                                 delay_seconds=0, first_name="{Ana}"))
    assert texts(welcome)[0] == "Bem-vinda, {Ana}! {sic}"


def test_placeholders_in_node_texts_are_filled_once_when_the_menu_loads() -> None:
    menu = edited(MAIN_KEY_8, ('    max_seconds: 120',
                               '    max_seconds: 120\n'
                               '    thanks: "Obrigado. Tecle {main_menu_key} da próxima vez."'))
    recado = menu.node("recado")
    assert isinstance(recado, VoicemailNode)
    assert recado.thanks == "Obrigado. Tecle 8 da próxima vez."
    # The menu holds the built prompts: the same objects on every request.
    first = engine.start(menu, TUESDAY_10H, NOT_LOGGED_IN)
    again = engine.start(menu, TUESDAY_10H, NOT_LOGGED_IN)
    assert isinstance(first.then, Ask) and isinstance(again.then, Ask)
    assert first.then.speech[0] is again.then.speech[0]


def test_the_ticket_dialogue_says_the_menus_sentences() -> None:
    menu = edited(("nodes:\n", "wording:\n"
                   '  ticket_postponed: "Adiado até {until}; menu, {main_menu_key}."\n'
                   '  ticket_refused: "Não deu: {reason}."\n'
                   "nodes:\n"))
    ticket = replace(_ticket(), status="solution_proposed", postponed=True,
                     solution_at=datetime.fromisoformat("2026-11-20T16:00:00-03:00"))
    reply = ticket_flow.after_change(menu, HEADING, ticket, "postpone", TUESDAY_10H)
    assert texts(reply)[0] == "Adiado até 19 de janeiro de 2027; menu, 0."
    assert [s.text for s in ticket_flow.refused(menu, "o prazo terminou")] == [
        "Não deu: o prazo terminou."]


def test_a_recording_with_nothing_said_ends_with_the_menus_sentence() -> None:
    voice = Voice("Polly.Camila", "pt-BR")
    for menu, text in [
        (SHIPPED_MENU, "Não recebemos nenhuma mensagem. Até logo."),
        (edited(("nodes:\n", 'wording:\n  nothing_recorded: "Nada gravado; {portal}."\nnodes:\n')),
         "Nada gravado; suporte.totvs.com.br."),
    ]:
        reply = engine.enter(menu, CallState(node="recado"), TUESDAY_10H, NOT_LOGGED_IN)
        assert isinstance(reply.then, Record)
        document = build(reply, voice, lambda resume: "/voice/recorded")
        assert document.endswith(f"<Say language=\"pt-BR\" voice=\"Polly.Camila\">{text}</Say>"
                                 "<Hangup /></Response>"), document


def test_every_default_names_only_placeholders_it_may_and_loads_filled() -> None:
    for name, field in Wording.model_fields.items():
        default = field.default
        assert default, name
        assert set(names_in(default)) <= {*LINE_PLACEHOLDERS, *call_fields(name)}, name
        # Loaded, only the call-time placeholders are left.
        assert set(names_in(getattr(SHIPPED_MENU.wording, name))) <= set(call_fields(name)), name


def _ticket() -> TicketView:
    return TicketView(id=1, number="12345678", area="educacional", status="in_progress",
                      summary="", solution_at=None, postponed=False, closed_at=None,
                      closed_how=None, specialist=None, version=1)
