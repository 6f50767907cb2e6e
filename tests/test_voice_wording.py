"""Over HTTP, with the database: an admin's edit of ``menus.yaml`` (the main-menu key, the
registration option's key, the hours) reaches every sentence that mentions them, in the login,
the ticket dialogue and the closed-hours speech."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import MARIA_CPF, Clock, SignedClient
from tests.test_voice_login import post as login_post
from tests.test_voice_login import to_team_login
from tests.test_voice_tickets import hear_ticket
from tests.test_voice_tickets import post as ticket_post

EDITS = [
    ('  main_menu_key: "0"', '  main_menu_key: "8"'),
    ('      "7":\n        label: "ativação', '      "5":\n        label: "ativação'),
    ('"Cadastro, tecle 7.', '"Cadastro, tecle 5.'),
    ('      mon-fri: "07:00-19:00"', '      mon-fri: "08:00-18:00"'),
]
TUESDAY_18H30 = datetime.fromisoformat("2026-12-01T18:30:00-03:00")


@pytest.fixture
def menus_file(menus_file: Path) -> Path:
    """The shipped menu as an admin edited it before the server started."""
    text = menus_file.read_text(encoding="utf-8")
    for old, new in EDITS:
        assert old in text, old
        text = text.replace(old, new)
    menus_file.write_text(text, encoding="utf-8")
    return menus_file


def test_the_login_failure_names_the_moved_registration_key(
    signed: SignedClient, demo_data: None
) -> None:
    doc = to_team_login(signed)
    for _attempt in range(3):
        doc = login_post(signed, doc.next_url(), MARIA_CPF)
        doc = login_post(signed, doc.next_url(), "111111")
    spoken = doc.spoken()
    assert "ligue para 4003-0015 e tecle 5. Até logo." in spoken
    assert "tecle 7" not in spoken
    assert doc.verbs[-1] == "Hangup"


def test_the_ticket_dialogue_names_the_new_main_menu_key_and_obeys_it(
    signed: SignedClient, demo_data: None
) -> None:
    doc = hear_ticket(signed)
    spoken = doc.spoken()
    assert spoken.endswith("Para ouvir de novo, tecle asterisco. "
                           "Para voltar ao menu principal, tecle 8.")
    assert "tecle 0" not in spoken
    doc = ticket_post(signed, doc.next_url(), "8")
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")
    assert "tecle 5" in doc.spoken()


def test_the_closed_hours_are_the_new_hours(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = TUESDAY_18H30  # open until 19h before the edit
    doc = login_post(signed, "/voice")
    doc = login_post(signed, doc.next_url(), "5")
    spoken = doc.spoken()
    assert "Nosso atendimento funciona de segunda a sexta-feira, das 8h às 18h, exceto " \
           "feriados." in spoken
    assert "Reabrimos amanhã às 8h." in spoken
    assert doc.first("Dial") is None
    # Self-service stays open: the menu after the hours names the new way back.
    assert "Para voltar ao menu principal, tecle 8." in spoken
