"""The menu tree over HTTP: signed webhooks in, TwiML out, no login involved."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import Clock, SignedClient, call_form
from tests.twiml import Doc

SATURDAY = datetime.fromisoformat("2026-12-05T10:00:00-03:00")
PLANTAO = datetime.fromisoformat("2026-12-01T07:30:00-03:00")


def start(signed: SignedClient, sid: str = "CA" + "a" * 32) -> Doc:
    response = signed.post("/voice", call_form(sid))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return Doc.parse(response.data)


def press(signed: SignedClient, doc: Doc, digits: str | None, sid: str = "CA" + "a" * 32) -> Doc:
    extra = {} if digits is None else {"Digits": digits}
    response = signed.post(doc.next_url(), call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def test_incoming_call_offers_the_main_menu_in_portuguese(signed: SignedClient) -> None:
    doc = start(signed)
    gather = doc.gather
    assert gather.attrib["action"].startswith("/voice/step?s=principal.")
    assert gather.attrib["numDigits"] == "8"  # an 8-digit ticket number may be keyed over it
    assert gather.attrib["finishOnKey"] == "#"
    say = gather.find("Say")
    assert say is not None and say.attrib["language"] == "pt-BR"
    assert "tecle 7" in doc.spoken()
    # Silence comes back to the same step instead of falling off the document.
    assert doc.verbs == ["Gather", "Redirect"]
    redirect = doc.first("Redirect")
    assert redirect is not None and redirect.text == gather.attrib["action"]


def test_option_7_goes_to_the_registration_team_without_login(signed: SignedClient) -> None:
    doc = press(signed, start(signed), "7")
    assert doc.dial_target() == "+5511900000007"
    assert doc.dial.attrib["action"].startswith("/voice/dialed?s=cadastro.")
    assert "cadastro" in doc.spoken()


def test_team_options_need_a_login_first(signed: SignedClient) -> None:
    doc = start(signed)
    for key in "22399":
        doc = press(signed, doc, key)
        assert doc.first("Gather") is not None, doc.raw
    doc = press(signed, doc, "1")
    assert doc.first("Dial") is None
    assert doc.next_url().startswith("/voice/auth/login?s=educacional.")


def test_invalid_key_says_so_and_reprompts_shorter(signed: SignedClient) -> None:
    first = start(signed)
    doc = press(signed, first, "5")
    assert doc.spoken().startswith("Opção inválida.")
    assert len(doc.spoken()) < len(first.spoken())
    assert ".1.0." in doc.gather.attrib["action"]  # one invalid key counted


def test_three_invalid_keys_in_hours_reach_a_person(signed: SignedClient) -> None:
    doc = start(signed)
    for _ in range(2):
        doc = press(signed, doc, "5")
        assert doc.first("Gather") is not None
    doc = press(signed, doc, "5")
    assert doc.dial_target() == "+5511900000000"


def test_three_silences_when_closed_say_goodbye_and_hang_up(
    signed: SignedClient, clock: Clock
) -> None:
    clock.moment = SATURDAY
    doc = start(signed)
    for _ in range(2):
        doc = press(signed, doc, None)
        assert doc.spoken().startswith("Não recebemos nenhuma opção.")
    doc = press(signed, doc, None)
    assert doc.first("Gather") is None and doc.first("Dial") is None
    assert doc.verbs[-1] == "Hangup"
    assert "Até logo" in doc.spoken()


def test_star_repeats_the_full_prompt(signed: SignedClient) -> None:
    first = start(signed)
    doc = press(signed, first, "*")
    assert doc.spoken() == first.spoken()


def test_zero_goes_back_to_the_main_menu(signed: SignedClient) -> None:
    main = start(signed)
    doc = press(signed, main, "2")
    # The support menu: its full prompt, one key, said in the menu's voice; silence repeats it.
    action = "/voice/step?s=suporte.0.0..principal-suporte"
    assert doc.verbs == ["Gather", "Redirect"], doc.raw
    # Keys end it as they always did; speech is heard too (docs/rules.md#speech).
    attributes = dict(doc.gather.attrib)
    hints = attributes.pop("hints")
    assert attributes == {"action": action, "method": "POST", "input": "dtmf speech",
                          "timeout": "6", "numDigits": "1", "finishOnKey": "",
                          "language": "pt-BR", "speechTimeout": "auto"}
    assert "menu principal" in hints.split(", ")
    assert [(say.tag, say.attrib, say.text) for say in doc.gather] == [
        ("Say", {"voice": "Polly.Camila", "language": "pt-BR"},
         "Suporte técnico. Para a linha de produtos RM, tecle 2. "
         "Para voltar ao menu principal, tecle 0. Para ouvir de novo, tecle asterisco.")]
    redirect = doc.first("Redirect")
    assert redirect is not None and (redirect.attrib, redirect.text) == ({"method": "POST"}, action)
    doc = press(signed, doc, "0")
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")
    assert doc.spoken() == main.spoken()


def test_closed_team_says_when_it_reopens_and_offers_self_service(
    signed: SignedClient, clock: Clock
) -> None:
    clock.moment = SATURDAY
    doc = press(signed, start(signed), "7")
    assert doc.first("Dial") is None
    spoken = doc.spoken()
    assert "fora do horário" in spoken
    assert "Reabrimos segunda-feira às 7h" in spoken
    assert "suporte.totvs.com.br" in spoken
    assert doc.gather.attrib["action"].startswith("/voice/step?s=fora_do_horario.")


def test_hours_are_judged_when_the_transfer_happens(signed: SignedClient, clock: Clock) -> None:
    clock.moment = datetime.fromisoformat("2026-12-04T18:59:00-03:00")  # Friday, open
    doc = start(signed)
    clock.moment = datetime.fromisoformat("2026-12-04T19:00:30-03:00")  # closed by the key press
    doc = press(signed, doc, "7")
    assert doc.first("Dial") is None
    assert "Reabrimos segunda-feira às 7h" in doc.spoken()


def test_plantao_transfers_to_the_on_duty_line(signed: SignedClient, clock: Clock) -> None:
    clock.moment = PLANTAO
    doc = press(signed, start(signed), "7")
    assert doc.dial_target() == "+5511900000090"


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_unanswered_transfer_falls_back_to_voicemail(signed: SignedClient, status: str) -> None:
    dial = press(signed, start(signed), "7")
    response = signed.post(dial.next_url(), call_form("CA" + "a" * 32, DialCallStatus=status))
    doc = Doc.parse(response.data)
    record = doc.first("Record")
    assert record is not None, doc.raw
    assert record.attrib["action"].startswith("/voice/recorded?s=recado.")
    assert "Deixe seu nome" in doc.spoken()


def test_answered_transfer_just_ends(signed: SignedClient) -> None:
    dial = press(signed, start(signed), "7")
    response = signed.post(dial.next_url(), call_form("CA" + "a" * 32,
                                                      DialCallStatus="completed"))
    assert Doc.parse(response.data).verbs == ["Hangup"]


@pytest.mark.parametrize("digits", ["x", "99", "7" * 10_000, "#", "1234567"])
def test_garbage_keys_are_invalid_options(signed: SignedClient, digits: str) -> None:
    doc = press(signed, start(signed), digits)
    assert doc.spoken().startswith("Opção inválida.")


def test_garbled_state_restarts_at_the_main_menu(signed: SignedClient) -> None:
    response = signed.post("/voice/step?s=%%%garbage", call_form(Digits="1"))
    doc = Doc.parse(response.data)
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")
    assert "menu foi atualizado" in doc.spoken()


def test_vanished_node_returns_to_the_main_menu_with_an_apology(signed: SignedClient) -> None:
    response = signed.post("/voice/step?s=no_such_node.0.0..principal", call_form(Digits="1"))
    doc = Doc.parse(response.data)
    assert "menu foi atualizado" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")


def test_unknown_voice_path_answers_twiml(signed: SignedClient) -> None:
    response = signed.post("/voice/nowhere", call_form())
    assert response.status_code == 200
    assert Doc.parse(response.data).first("Gather") is not None
