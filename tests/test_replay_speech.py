"""Spoken steps in the call record: how each step was answered (dtmf, speech or none), the words
said at a menu kept for replay (never at the CPF or password step, never with a number in them),
and replay matching those words again against an edited menu's synonyms."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from ivr.calls.history import recent_calls
from ivr.calls.models import CallStep
from ivr.calls.steps import kept_speech
from ivr.menu import parse_menu
from ivr.replay import replay
from tests.conftest import MARIA_PASSWORD, ROOT, SignedClient, call_form
from tests.twiml import Doc

SID = "CA" + "7" * 32
ASKED = "Eu quero falar com o financeiro."
CPF_SAID = "cinco dois nove nove oito dois dois quatro sete dois cinco"


def post(signed: SignedClient, url: str, **fields: str) -> Doc:
    response = signed.post(url, call_form(SID, **fields))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def spoken_call(app: Flask, signed: SignedClient) -> list[CallStep]:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), SpeechResult=ASKED, Confidence="0.88")
    doc = post(signed, doc.next_url())
    doc = post(signed, doc.next_url(), SpeechResult=CPF_SAID, Confidence="0.61")
    doc = post(signed, doc.next_url(), Digits=MARIA_PASSWORD)
    post(signed, doc.next_url(), DialCallStatus="completed")
    app.extensions["call_recorder"].flush()
    with app.extensions["database"].transaction() as session:
        rows = session.scalars(select(CallStep).order_by(CallStep.seq)).all()
        session.expunge_all()
    return list(rows)


def test_each_step_says_how_it_was_answered_and_keeps_no_secret(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    steps = {row.step: row for row in spoken_call(app, signed)}
    menu = steps["ivr.step"]
    assert (menu.input_kind, menu.said, menu.confidence, menu.keys) == ("speech", ASKED, 0.88,
                                                                       None)
    cpf = steps["auth.cpf"]
    assert (cpf.input_kind, cpf.said, cpf.confidence, cpf.keys, cpf.key_count) == \
        ("speech", None, None, None, 11)
    password = steps["auth.password"]
    assert (password.input_kind, password.keys, password.key_count) == ("dtmf", None, 6)
    assert steps["ivr.incoming"].input_kind == "none"


def test_replay_matches_the_words_again_against_the_menu_replayed(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    spoken_call(app, signed)
    [call] = recent_calls(app.extensions["database"], 10)
    shipped = (ROOT / "menus.yaml").read_text(encoding="utf-8")
    assert str(replay(parse_menu(shipped, "menus.yaml"), call).end) == \
        "transferred gestao_financeira:+5511900000002"
    # Without "financeiro" among its synonyms, the caller would not have got there.
    edited = shipped.replace("synonyms: [financeiro, ", "synonyms: [")
    assert edited != shipped
    assert replay(parse_menu(edited, "menus.yaml"), call).end.kind != "transferred"


def test_words_are_kept_only_off_secret_prompts_and_without_numbers() -> None:
    assert kept_speech("eu quero falar com o financeiro", secret=False) == \
        "eu quero falar com o financeiro"
    assert kept_speech("eu quero falar com o financeiro", secret=True) is None
    assert kept_speech("meu CPF é cinco dois nove e não sei o resto", secret=False) is None
    assert kept_speech("o número é 529", secret=False) is None
    assert kept_speech("   ", secret=False) is None
    assert len(kept_speech("boleto " * 40, secret=False) or "") == 100


def test_the_migration_adds_the_columns_and_goes_with_a_downgrade(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from database.migrate import alembic_config, upgrade
    from tests.schema import schema_differences

    def columns() -> set[str]:
        engine = create_engine(database_url)
        try:
            return {column["name"] for column in inspect(engine).get_columns("call_steps")}
        finally:
            engine.dispose()

    assert schema_differences(database_url, {"call_steps"}) == []
    command.downgrade(alembic_config(database_url), "0009_call_steps")
    assert not {"said", "confidence"} & columns()
    upgrade(database_url)
    assert {"said", "confidence"} <= columns()
    assert schema_differences(database_url, {"call_steps"}) == []
