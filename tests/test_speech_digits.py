"""Digits said in Portuguese, as the provider transcribes them (ivr/speech/digits.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from ivr.speech.digits import spoken_digits

DIGIT_WORDS = {
    "0": ["zero", "Zero"], "1": ["um", "uma"], "2": ["dois", "duas"], "3": ["três", "tres"],
    "4": ["quatro"], "5": ["cinco"], "6": ["seis", "meia", "Meia"], "7": ["sete"],
    "8": ["oito"], "9": ["nove"],
}
# Between groups: never "e", which joins a number ("vinte e cinco").
SEPARATORS = [" ", ", ", ". ", " - ", "; ", "... "]


@st.composite
def said(draw: st.DrawFn, digits: str) -> str:
    """``digits`` the way a caller says them and a transcription writes them: in groups of up
    to three, each as figures, digit by digit in words, or as a number in words."""
    groups: list[str] = []
    rest = digits
    while rest:
        size = draw(st.integers(1, 3))
        groups.append(rest[:size])
        rest = rest[size:]
    parts = []
    for group in groups:
        how = draw(st.sampled_from(["figures", "spaced", "words", "number"]))
        if how == "number" and (group == "0" or not group.startswith("0")):
            parts.append(num2words(int(group), lang="pt_BR"))
        elif how == "figures":
            parts.append(group)
        elif how == "spaced":
            parts.append(" ".join(group))
        else:
            parts.append(" ".join(draw(st.sampled_from(DIGIT_WORDS[d])) for d in group))
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return text


digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=16)


@given(data=st.data(), digits=digit_strings)
@settings(max_examples=500, deadline=None)
def test_digits_said_any_usual_way_come_back_as_they_were(data: st.DataObject,
                                                          digits: str) -> None:
    text = data.draw(said(digits), label="said")
    assert spoken_digits(text) == digits, text


@given(data=st.data(), digits=digit_strings,
       before=st.sampled_from(["", "meu CPF é ", "o número é ", "é o ", "CPF: ", "Opção "]),
       after=st.sampled_from(["", ".", "!", " ok", ", tá"]))
@settings(max_examples=200, deadline=None)
def test_the_words_around_a_number_do_not_change_it(data: st.DataObject, digits: str,
                                                    before: str, after: str) -> None:
    text = before + data.draw(said(digits), label="said") + after
    assert spoken_digits(text) == digits, text


@given(text=st.text(max_size=60))
@settings(max_examples=500, deadline=None)
def test_any_text_gives_ascii_digits_or_nothing(text: str) -> None:
    result = spoken_digits(text)
    assert result is None or (result.isascii() and result.isdigit() and len(result) <= 32)


@given(digits=digit_strings,
       word=st.sampled_from(["financeiro", "boleto", "não sei", "mil", "espera", "cadastro"]),
       at=st.integers(0, 16))
def test_a_word_that_is_not_a_number_means_it_was_not_a_number(digits: str, word: str,
                                                               at: int) -> None:
    spaced = list(digits)
    spaced.insert(min(at, len(spaced)), word)
    assert spoken_digits(" ".join(spaced)) is None


@pytest.mark.parametrize(("text", "digits"), [
    ("5 2 9", "529"),
    ("cinco dois nove", "529"),
    ("Cinco, dois, nove.", "529"),
    ("meia meia meia", "666"),
    ("529.982.247-25", "52998224725"),
    ("meu CPF é 529 982 247 25", "52998224725"),
    ("quinhentos e vinte e nove, novecentos e oitenta e dois, duzentos e quarenta e sete, "
     "vinte e cinco", "52998224725"),
    ("cinco dois nove nove oito dois dois quatro sete dois cinco", "52998224725"),
    ("um dois três quatro cinco meia sete oito", "12345678"),
    ("vinte cinco", "205"),  # no "e": two numbers
    ("vinte e cinco", "25"),
    ("cem um", "1001"),
    ("cento e um", "101"),
    ("dezesseis", "16"),
    ("Dois.", "2"),
    ("zero zero sete", "007"),
])
def test_transcriptions_heard_on_the_line(text: str, digits: str) -> None:
    assert spoken_digits(text) == digits


@pytest.mark.parametrize("text", ["", "   ", "financeiro", "dois mil", "١٢٣", "o", "CPF",
                                  "cinco dois banana", "9" * 40])
def test_not_a_number(text: str) -> None:
    assert spoken_digits(text) is None
