"""What the caller answered, read from the provider's fields: a key always wins, and a
confidence is a plain number from 0 to 1 or nothing (ivr/speech/heard.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech.heard import MAX_SPEECH, Heard, confidence_of, heard


@pytest.mark.parametrize(("raw", "value"), [
    ("0.93", 0.93), ("1", 1.0), ("0", 0.0), (".5", 0.5), (None, None), ("", None),
    ("nan", None), ("inf", None), ("-0.1", None), ("1.01", None), ("1e999", None),
    ("٠.٥", None), ("0x1", None), (" 0.5", 0.5), ("9" * 40, None),
])
def test_confidence(raw: str | None, value: float | None) -> None:
    assert confidence_of(raw) == value


@given(st.one_of(st.none(), st.text(max_size=40)))
def test_any_confidence_field_is_a_number_from_0_to_1_or_nothing(raw: str | None) -> None:
    value = confidence_of(raw)
    assert value is None or 0.0 <= value <= 1.0


def test_a_key_always_wins() -> None:
    assert heard("2", "financeiro", "0.99").kind == "dtmf"
    assert heard(None, "financeiro", "0.99").kind == "speech"
    assert heard("", "  ", None).kind == "none"
    assert heard(None, None, None) == Heard()


def test_a_transcription_is_cut_and_never_shown() -> None:
    answer = heard(None, "cinco dois nove " * 100, "0.8")
    assert len(answer.speech) == MAX_SPEECH
    assert "cinco" not in repr(answer)
