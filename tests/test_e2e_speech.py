"""A spoken call through a real gunicorn (SQLite, or PostgreSQL with TEST_DATABASE_URL): the
caller says "financeiro" at the main menu, says the CPF, keys the password, and reaches the
Gestão Financeira team; the call record shows the menus walked on the way."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.conftest import MARIA_PASSWORD, call_form
from tests.e2e import LiveServer, live_server
from tests.twiml import Doc

SID = "CA" + "e" * 32
GESTAO_FINANCEIRA = "+5511900000002"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-speech")) as server:
        yield server


def post(live: LiveServer, url: str, **fields: str) -> Doc:
    response = live.caller.post(url, call_form(SID, **fields))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def test_say_financeiro_say_the_cpf_key_the_password_reach_the_team(live: LiveServer) -> None:
    doc = post(live, "/voice")
    main = doc.gather.attrib
    assert (main["input"], main["language"], main["speechTimeout"]) == \
        ("dtmf speech", "pt-BR", "auto")
    assert "financeiro" in main["hints"].split(", ")
    doc = post(live, doc.next_url(), SpeechResult="Eu quero falar com o financeiro.",
               Confidence="0.87")
    assert doc.next_url().startswith("/voice/auth/login")
    doc = post(live, doc.next_url())
    assert doc.gather.attrib["input"] == "dtmf speech"
    doc = post(live, doc.next_url(),
               SpeechResult="cinco dois nove, nove oito dois, dois quatro sete, dois cinco",
               Confidence="0.64")
    assert doc.gather.attrib["input"] == "dtmf"  # the password: keys only
    doc = post(live, doc.next_url(), Digits=MARIA_PASSWORD)
    assert "Obrigado, Maria." in doc.spoken()
    assert doc.dial_target() == GESTAO_FINANCEIRA
    post_status = live.caller.post("/voice/status", call_form(SID, CallStatus="completed",
                                                              CallDuration="42"))
    assert post_status.status_code == 204
    row = None
    for _ in range(50):  # the status callback flushed its worker; the other may lag
        with live.database.transaction() as session:
            row = session.execute(text("SELECT path, outcome, outcome_detail FROM calls "
                                       "WHERE call_sid = :s"), {"s": SID}).one_or_none()
        if row is not None and row.outcome == "transferred":
            break
        time.sleep(0.1)
    assert row is not None
    assert row.path == "principal,suporte,linha_rm,educacao,ofertas,oferta_p,gestao_financeira"
    assert row.outcome_detail == f"gestao_financeira:{GESTAO_FINANCEIRA}"
    # Nothing said at the CPF step reached the server's log.
    log = live.server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "Booting worker" in log
    assert "cinco dois nove" not in log and "52998224725" not in log

