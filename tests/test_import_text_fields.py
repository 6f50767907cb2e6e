"""Free text of the import file must be speakable: a character the spoken XML cannot carry (a
control character, a lone surrogate, a noncharacter) is refused with the record named."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask import Flask

from database.session import Database
from importer import ImportRejected
from importer.fields import unspeakable_problem
from tests.conftest import (
    DEMO_DATA,
    MARIA_CPF,
    MARIA_PASSWORD,
    SignedClient,
    call_form,
)
from tests.conftest_auth import ROUNDS, db_fixture, row_counts  # noqa: F401 - "db" fixture
from tests.importing import import_data
from tests.twiml import Doc

CNPJ = "11222333000181"
FILE: dict[str, Any] = {
    "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}],
    "contacts": [{"cpf": MARIA_CPF, "name": "Maria Silva", "company": CNPJ,
                  "password": MARIA_PASSWORD}],
    "specialists": [{"key": "ana.souza", "name": "Ana Souza", "area": "educacional",
                     "phone": "+5511999990001"}],
    "tickets": [{"number": "12345678", "company": CNPJ, "area": "educacional",
                 "status": "in_progress", "specialist": "ana.souza",
                 "summary": "Rematrícula não gera boleto",
                 "opened_at": "2026-11-02T10:15:00-03:00"}],
}
FREE_TEXT = [("companies", "name"), ("contacts", "name"), ("specialists", "name"),
             ("tickets", "summary")]
# (character, what it is): every one of them is refused in every free-text field
UNSPEAKABLE = [
    ("\x00", "a control character"),  # the probe's: the TwiML is no longer XML
    ("\x07", "a control character"),
    ("\t", "a control character"),
    ("\n", "a control character"),
    ("\x1b", "a control character"),
    ("\x7f", "a control character"),
    ("\x85", "a control character"),  # C1
    ("\x9f", "a control character"),
    ("\ud800", "a lone surrogate"),  # json.loads lets "\ud800" through unpaired
    ("\udfff", "a lone surrogate"),
    ("\ufdd0", "a noncharacter"),
    ("\ufffe", "a noncharacter"),
    ("\uffff", "a noncharacter"),
    ("\U0010ffff", "a noncharacter"),
]


def with_text(section: str, field: str, text: str) -> dict[str, Any]:
    payload = copy.deepcopy(FILE)
    payload[section][0][field] = text
    return payload


@pytest.mark.parametrize(("section", "field"), FREE_TEXT)
@pytest.mark.parametrize(("char", "kind"), UNSPEAKABLE, ids=[f"U+{ord(c):04X}" for c, _ in
                                                           UNSPEAKABLE])
def test_unspeakable_free_text_is_refused_with_the_record_named(
    db: Database, section: str, field: str, char: str, kind: str
) -> None:
    payload = with_text(section, field, f"Rematrícula{char} sem boleto")
    with pytest.raises(ImportRejected) as rejected:
        import_data(db, payload, rounds=ROUNDS)
    assert rejected.value.problems == (
        f"{section}[0].{field}: character 12 is U+{ord(char):04X}, {kind}: free text may not "
        "hold control characters, lone surrogates or noncharacters (the spoken XML cannot carry "
        "them)",
    )
    assert not any(row_counts(db).values())


def test_the_import_file_itself_may_spell_the_character_as_a_json_escape(db: Database) -> None:
    payload = json.loads(json.dumps(FILE).replace("Rematr", "Rematr\\u0000"))
    with pytest.raises(ImportRejected) as rejected:
        import_data(db, payload, rounds=ROUNDS)
    assert rejected.value.problems[0].startswith("tickets[0].summary: character 7 is U+0000")


@pytest.mark.parametrize(
    "text",
    ["Conceição Araújo", "Øystein Ærø", "São Paulo — NF-e nº 12", "Boleto 💸 em dobro",
     "Zoë\u00a0d'Ávila", "中文名字", "א ב"],
)
def test_letters_symbols_and_emoji_of_any_script_are_fine(text: str) -> None:
    assert unspeakable_problem(text) is None


def test_every_field_of_the_demo_file_is_speakable(db: Database) -> None:
    import_data(db, json.loads(DEMO_DATA.read_text(encoding="utf-8")), rounds=ROUNDS)


def test_a_speakable_summary_is_spoken_in_a_well_formed_document(
    app: Flask, signed: SignedClient
) -> None:
    """What the refused characters would break: the ticket step's document must stay XML."""
    summary = "Boleto <duplicado> & \"errado\" — nº 12 💸"
    import_data(app.extensions["database"], with_text("tickets", "summary", summary),
                rounds=ROUNDS)
    sid = "CA" + "5" * 32
    doc = Doc.parse(signed.post("/voice", call_form(sid)).data)
    for digits in ("12345678", None, MARIA_CPF, MARIA_PASSWORD):
        form = call_form(sid) if digits is None else call_form(sid, Digits=digits)
        doc = Doc.parse(signed.post(doc.next_url(), form).data)  # parses, or fails here
        while doc.is_redirect_only:
            doc = Doc.parse(signed.post(doc.next_url(), call_form(sid)).data)
    assert summary in doc.spoken()
