"""Every sentence the line says that is not a node's own text: its default, in one place.

An admin overrides any of them in the ``wording:`` block of ``menus.yaml`` by its name. A
sentence may name the line's values as placeholders (``docs/rules.md#wording``), filled when the
menu is loaded, so a moved key or new hours change every sentence that mentions them:

- ``{main_menu_key}``: the key back to the main menu (``settings.main_menu_key``);
- ``{repeat_key}``: the key that repeats a prompt, as said ("asterisco");
- ``{registration_key}``: the main menu's key to the registration team (the option that goes to
  ``settings.teams.cadastro``);
- ``{hours}``: the opening hours as said ("de segunda a sexta-feira, das 7h às 19h, exceto
  feriados"): of the first schedule, or of the closed transfer's in the closed-hours sentences;
- ``{portal}``: ``settings.portal``.

Some sentences also take values known only during the call (a name, a date); each names them
below, after its text (``sentence(text, "name")``). ``menus check`` refuses any other placeholder.

Sentences the engine and the built-in steps (login, tickets) say live here rather than in their
packages so that one file lists everything a caller can hear, and ``menus check`` knows every name
without importing the layers above ``ivr``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def sentence(default: str, *fields: str) -> Any:
    """A sentence's default text and the call-time placeholders it may name."""
    return Field(default, json_schema_extra={"fields": list(fields)})


class Wording(BaseModel):
    """The ``wording:`` block. An empty text is not said."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Menus whose prompt is built from their options' labels (docs/rules.md#wording).
    menu_option: str = sentence("Para {label}, tecle {key}.", "label", "key")
    menu_back: str = sentence("Para voltar ao menu principal, tecle {main_menu_key}.")
    menu_repeat: str = sentence("Para ouvir de novo, tecle {repeat_key}.")

    # A transfer outside its hours.
    closed_now: str = sentence("No momento estamos fora do horário de atendimento.")
    closed_hours: str = sentence("Nosso atendimento funciona {hours}.", "hours")
    closed_reopening: str = sentence("Reabrimos {reopening}.", "reopening")
    closed_portal: str = sentence(
        "Você também pode abrir e acompanhar chamados pelo portal {portal}.")
    goodbye: str = sentence("Até logo.")
    # After a failure of the server (the database down...), following settings.apology.
    failure_goodbye: str = sentence("Por favor, ligue novamente em alguns minutos. Até logo.")
    recording_thanks: str = sentence("Obrigado. Até logo.")
    # A recording ended with nothing said (voicemail, a message on a ticket); then the call ends.
    nothing_recorded: str = sentence("Não recebemos nenhuma mensagem. Até logo.")

    # The phone login (docs/rules.md#login).
    login_ask_cpf: str = sentence(
        "Para sua segurança, digite o seu CPF, somente os números, e tecle jogo da velha.")
    login_ask_cpf_again: str = sentence("Digite o seu CPF e tecle jogo da velha.")
    # The same, when the line takes speech (settings.speech, docs/rules.md#speech).
    login_ask_cpf_spoken: str = sentence(
        "Para sua segurança, digite o seu CPF, somente os números, e tecle jogo da velha, "
        "ou diga os números um a um.")
    login_ask_cpf_again_spoken: str = sentence(
        "Digite o seu CPF e tecle jogo da velha, ou diga os números um a um.")
    # Words said at the CPF step that are not digits.
    login_not_understood: str = sentence("Não entendemos os números.")
    login_ask_password: str = sentence(
        "Agora digite a sua senha do atendimento telefônico e tecle jogo da velha.")
    login_invalid_cpf: str = sentence("Este CPF não é válido.")
    login_failed: str = sentence("CPF ou senha não conferem.")
    login_silence: str = sentence("Não recebemos nenhum número.")
    login_welcome: str = sentence("Obrigado, {name}.", "name")
    login_thanks: str = sentence("Obrigado.")  # a contact whose name has no first word
    login_let_go: str = sentence(
        "Como não recebemos os dados, vamos encerrar a ligação. "
        "Ligue novamente quando quiser. Até logo.")
    # After the call's third failure: how to recover, then goodbye.
    login_recover: str = sentence(
        "Não foi possível confirmar os seus dados. Para criar uma nova senha, acesse o portal "
        "{portal} e use a opção Esqueci minha senha.")
    # Not said when the main menu has no option to the registration team.
    login_registration_help: str = sentence(
        "Se precisar de ajuda com o seu cadastro, ligue para 4003-0015 e tecle "
        "{registration_key}.")

    # A spoken answer the provider was unsure of, or that named two options: {options} is the
    # two closest options ("Gestão Financeira ou Cadastro").
    speech_unsure: str = sentence("Não entendi bem. Você quer {options}?", "options")

    # Ticket self-service (docs/rules.md#tickets). {key}: the ticket menu's own keys.
    ticket_ask_number: str = sentence("Digite os oito dígitos do número do chamado.")
    ticket_not_found: str = sentence(
        "Não encontramos um chamado com esse número para a sua empresa. "
        "Confira o número de oito dígitos no portal do cliente e tente de novo.")
    ticket_option_specialist: str = sentence(
        "Para falar com o especialista responsável, tecle {key}.", "key")
    ticket_option_accept: str = sentence("Para aceitar a solução, tecle {key}.", "key")
    ticket_option_postpone: str = sentence(
        "Para prorrogar o prazo de aceite por mais {days} dias, tecle {key}.", "days", "key")
    ticket_option_reject: str = sentence(
        "Para recusar a solução e gravar o motivo, tecle {key}.", "key")
    ticket_options_end: str = sentence(
        "Para ouvir de novo, tecle {repeat_key}. "
        "Para voltar ao menu principal, tecle {main_menu_key}.")
    ticket_confirm_accept: str = sentence(
        "Você escolheu aceitar a solução. O chamado será encerrado.")
    ticket_confirm_postpone: str = sentence(
        "Você escolheu prorrogar o prazo de aceite por {days} dias. "
        "A prorrogação só pode ser feita uma vez.", "days")
    ticket_confirm_reject: str = sentence(
        "Você escolheu recusar a solução. O chamado voltará para atendimento com a sua "
        "mensagem.")
    ticket_confirm_keys: str = sentence(
        "Para confirmar, tecle {key}. Para cancelar, tecle qualquer outra tecla.", "key")
    ticket_cancelled: str = sentence("Nada foi alterado.")
    ticket_changed_since: str = sentence(
        "O chamado mudou desde a sua escolha. Nada foi alterado.")
    ticket_refused: str = sentence("Não foi possível concluir: {reason}.", "reason")
    ticket_accepted: str = sentence(
        "Pronto. A solução foi aceita e o chamado foi encerrado. Obrigado.")
    ticket_postponed: str = sentence(
        "Pronto. O prazo para aceite foi prorrogado até {until}.", "until")
    ticket_postponed_undated: str = sentence("Pronto. O prazo para aceite foi prorrogado.")
    ticket_rejected: str = sentence(
        "Pronto. O chamado voltou para atendimento com a sua mensagem, e o especialista vai "
        "analisar o motivo.")
    ticket_to_specialist: str = sentence(
        "Vamos transferir você para {name}, especialista responsável pelo chamado. Aguarde.",
        "name")
    ticket_specialist_no_answer: str = sentence("O especialista não pôde atender.")
    ticket_to_team: str = sentence(
        "Vamos transferir você para a equipe responsável pelo chamado. Aguarde.")
    ticket_no_answer: str = sentence("Ninguém pôde atender agora.")
    ticket_leave_message: str = sentence(
        "Deixe sua mensagem para o especialista após o sinal; ela ficará registrada no "
        "chamado. Ao terminar, tecle jogo da velha.")
    ticket_offer_message: str = sentence(
        "Se quiser, deixe uma mensagem para o especialista, que ficará registrada no chamado. "
        "Para gravar, tecle {key}. Para voltar ao menu principal, tecle {main_menu_key}.",
        "key")
    ticket_ask_reason: str = sentence(
        "Depois do sinal, diga o motivo da recusa. Ao terminar, tecle jogo da velha.")
    ticket_message_saved: str = sentence(
        "Sua mensagem foi registrada no chamado. Obrigado e até logo.")
    ticket_message_not_saved: str = sentence(
        "Não foi possível registrar a mensagem no chamado: {reason}. Até logo.", "reason")


def call_fields(name: str) -> tuple[str, ...]:
    """The call-time placeholders the sentence ``name`` may name."""
    extra = Wording.model_fields[name].json_schema_extra
    fields = extra.get("fields", []) if isinstance(extra, dict) else []
    return tuple(str(field) for field in fields) if isinstance(fields, list) else ()
