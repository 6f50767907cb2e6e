"""``flask call`` sends words typed at a prompt that listens for speech as a transcription."""

from __future__ import annotations

from ivr.simulator import answer_fields


def test_words_at_a_listening_prompt_are_a_transcription() -> None:
    assert answer_fields("eu quero o financeiro", True) == {
        "SpeechResult": "eu quero o financeiro", "Confidence": "0.9"}


def test_keys_stay_keys() -> None:
    assert answer_fields("2", True) == {"Digits": "2"}
    assert answer_fields("52998224725#", True) == {"Digits": "52998224725"}
    assert answer_fields("", True) == {}


def test_a_keypad_only_prompt_gets_keys_whatever_is_typed() -> None:
    assert answer_fields("482913", False) == {"Digits": "482913"}
    assert "SpeechResult" not in answer_fields("quatro oito", False)
