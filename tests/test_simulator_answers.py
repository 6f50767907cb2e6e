"""``flask call`` sends words typed at a prompt that listens for speech as a transcription."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Flask

from ivr.simulator import answer_fields

LISTENING = ET.fromstring('<Gather input="dtmf speech" numDigits="1" finishOnKey="" />')
KEYS_ONLY = ET.fromstring('<Gather input="dtmf" finishOnKey="#" />')


def test_words_at_a_listening_prompt_are_a_transcription() -> None:
    assert answer_fields(LISTENING, "eu quero o financeiro") == {
        "SpeechResult": "eu quero o financeiro", "Confidence": "0.9"}


def test_keys_stay_keys() -> None:
    assert answer_fields(LISTENING, "2") == {"Digits": "2"}
    assert answer_fields(KEYS_ONLY, "52998224725#") == {"Digits": "52998224725"}
    assert answer_fields(LISTENING, "") == {}


def test_a_keypad_only_prompt_gets_keys_whatever_is_typed() -> None:
    assert answer_fields(KEYS_ONLY, "482913") == {"Digits": "482913"}
    assert "SpeechResult" not in answer_fields(KEYS_ONLY, "quatro oito")


def test_flask_call_says_financeiro_and_the_cpf_and_keys_the_password(
    app: Flask, database_url: str, demo_data: None
) -> None:
    from tests.conftest import MARIA_PASSWORD

    result = app.test_cli_runner().invoke(
        args=["call", "--keys", "financeiro,cinco dois nove nove oito dois dois quatro sete "
              f"dois cinco,{MARIA_PASSWORD}#", "--at", "2026-12-01T10:00:00-03:00"],
        env={"DATABASE_URL": database_url, "BCRYPT_ROUNDS": "10"})
    assert result.exit_code == 0, result.output
    assert "DIAL +5511900000002" in result.stdout.splitlines()
