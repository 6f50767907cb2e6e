"""The satisfaction survey (docs/rules.md#satisfaction-survey): after an answered transfer the
person ended, after a solution accepted by phone; ``surveys export``. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from surveys.models import SurveyAnswer
from tests.caller import Caller
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, Clock
from tests.test_voice_tickets import hear_ticket, login_through
from tests.test_voice_tickets import post as post_as
from tests.twiml import Doc

SID = "CA" + "5e" * 16
COMMENT = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE555"


def post(signed: Caller, url: str, digits: str | None = None, sid: str = SID,
         **extra: str) -> Doc:
    return post_as(signed, url, digits, sid, **extra)


def talk_to_educacional(signed: Caller, sid: str = SID) -> Doc:
    """Through 2-2-3-9-9-1 and the login: the Dial to the team."""
    doc = post(signed, "/voice", sid=sid)
    for key in "223991":
        doc = post(signed, doc.next_url(), key, sid)
    doc = login_through(signed, doc, MARIA_CPF, MARIA_PASSWORD, sid)
    assert doc.dial_target() == "+5511900000001"
    return doc


def person_hangs_up(signed: Caller, doc: Doc, sid: str = SID) -> Doc:
    return post(signed, doc.next_url(), sid=sid, DialCallStatus="completed",
                CallStatus="in-progress")


def answers(app: Flask) -> list[SurveyAnswer]:
    with app.extensions["database"].transaction() as session:
        return list(session.scalars(select(SurveyAnswer)))


def export(app: Flask, *args: str) -> list[dict[str, str]]:
    result = app.test_cli_runner().invoke(args=["surveys", "export", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_after_an_answered_transfer_the_caller_stays_for_the_survey(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    assert "De 1 a 5" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/survey/score")
    for wrong in ("7", "0"):
        doc = post(signed, doc.next_url(), wrong)
        assert "Digite uma nota de 1 a 5" in doc.spoken() and answers(app) == []
    doc = post(signed, doc.next_url(), "4")
    assert doc.first("Record") is not None and "comentário" in doc.spoken()
    doc = post(signed, doc.next_url(), RecordingUrl=COMMENT)
    assert "Obrigado pela sua avaliação" in doc.spoken() and doc.verbs[-1] == "Hangup"
    (answer,) = answers(app)
    assert (answer.score, answer.team, answer.comment_url) == (4, "educacional", COMMENT)
    assert answer.ticket_id is None and answer.specialist_id is None
    (row,) = export(app)
    assert row["call_sid"] == SID and row["score"] == "4" and row["team"] == "educacional"
    assert row["ticket"] == "" and row["comment_url"] == COMMENT


def test_when_the_caller_hangs_up_first_there_is_no_survey(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, talk_to_educacional(signed).next_url(), DialCallStatus="completed",
               CallStatus="completed")
    assert doc.verbs == ["Hangup"]
    assert export(app) == []


def test_silence_skips_the_survey_and_stores_nothing(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    doc = post(signed, doc.next_url(), "")
    assert doc.verbs[-1] == "Hangup" and doc.first("Record") is None
    assert answers(app) == []


def test_keys_out_of_range_up_to_the_limit_skip_the_survey(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    for _ in range(3):
        doc = post(signed, doc.next_url(), "9")
    assert doc.verbs[-1] == "Hangup" and doc.first("Gather") is None
    assert answers(app) == []


def test_no_comment_said_still_keeps_the_score(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    doc = post(signed, doc.next_url(), "5")
    redirect = doc.first("Redirect")  # the provider's way on when nothing was recorded
    assert redirect is not None and redirect.text
    doc = post(signed, redirect.text)
    assert "Obrigado pela sua avaliação" in doc.spoken()
    (answer,) = answers(app)
    assert (answer.score, answer.comment_url) == (5, None)


def test_after_accepting_a_solution_the_survey_names_the_ticket_and_specialist(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, hear_ticket(signed, sid=SID).next_url(), "2")
    doc = post(signed, doc.next_url(), "1")
    assert "solução foi aceita" in doc.spoken() and "De 1 a 5" in doc.spoken()
    doc = post(signed, doc.next_url(), "5")
    (row,) = export(app)
    assert (row["score"], row["ticket"], row["specialist"], row["team"]) == (
        "5", "12345678", "ana.souza", "educacional")


def test_after_the_specialist_hangs_up_the_survey_names_them(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, hear_ticket(signed, sid=SID).next_url(), "1")
    assert doc.dial_target() == "+5511999990001"
    doc = person_hangs_up(signed, doc)
    doc = post(signed, doc.next_url(), "3")
    (row,) = export(app)
    assert (row["score"], row["ticket"], row["specialist"]) == ("3", "12345678", "ana.souza")


def test_after_the_ouvidoria_the_survey_too(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), "9")
    doc = login_through(signed, doc, MARIA_CPF, MARIA_PASSWORD, SID)
    doc = post(signed, doc.next_url(), "23456789")
    doc = person_hangs_up(signed, doc)
    doc = post(signed, doc.next_url(), "2")
    assert [row["team"] for row in export(app)] == ["ouvidoria"]


def test_export_takes_a_period(signed: Caller, demo_data: None, app: Flask,
                               clock: Clock) -> None:
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    post(signed, doc.next_url(), "4")
    clock.moment = datetime.fromisoformat("2026-12-02T23:30:00-03:00")  # 3 December in UTC
    other = "CA" + "6f" * 16
    doc = post(signed, "/voice/survey/score?s=pesquisa.0.0..principal-pesquisa&t=nfe",
               "2", sid=other)
    assert [row["call_sid"] for row in export(app)] == [SID, other]
    assert [row["call_sid"] for row in export(app, "--from", "2026-12-02")] == [other]
    assert [row["call_sid"] for row in export(app, "--to", "2026-12-01")] == [SID]
    header = app.test_cli_runner().invoke(args=["surveys", "export", "--from", "2027-01-01"])
    assert header.output.splitlines() == [
        "call_sid,at,score,team,ticket,specialist,comment_url"]


def test_a_menu_without_a_survey_hangs_up_as_before(
        signed: Caller, demo_data: None, app: Flask, menus_file: Path) -> None:
    text = menus_file.read_text().replace("  survey: pesquisa\n", "")
    menus_file.write_text(re.sub(r"\n  pesquisa:.*?\n\n", "\n", text, flags=re.DOTALL))
    app.extensions["menu_registry"].check()
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    assert doc.verbs == ["Hangup"]


def test_the_surveys_sentences_come_from_the_menus_wording(
        signed: Caller, demo_data: None, app: Flask, menus_file: Path) -> None:
    text = menus_file.read_text().replace("\nnodes:\n", (
        "\nwording:\n  survey_out_of_range: \"Só de {lowest} a {highest}; {repeat_key} repete.\"\n"
        "\nnodes:\n"), 1)
    menus_file.write_text(text.replace("    lowest: 1 ", "    lowest: 2 "))
    app.extensions["menu_registry"].check()
    doc = person_hangs_up(signed, talk_to_educacional(signed))
    doc = post(signed, doc.next_url(), "1")
    assert "Só de 2 a 5; asterisco repete." in doc.spoken()
