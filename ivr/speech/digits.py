"""Digits said in Portuguese, as the provider transcribes them: "5 2 9", "529", "cinco dois
nove", "meia" for six, "quinhentos e vinte e nove" for a group read as a number, punctuation
("529.982.247-25") and the words around them ("meu CPF é ...").

Numbers join only through "e", as Portuguese says them: "vinte e cinco" is 25, while "vinte
cinco" is 20 then 5 (two groups). Anything else in the answer (a word that is not a number)
means it was not a number at all: ``None``, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.speech.words import fold

# Reads one number from words[position] on: its value and where it ends, or None.
Reader = Callable[[list[str], int], "tuple[int, int] | None"]

MAX_DIGITS = 32  # more is not a CPF or a ticket number; not worth reading on

UNITS = {
    "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "meia": 6, "sete": 7, "oito": 8, "nove": 9,
}
TEENS = {
    "dez": 10, "onze": 11, "doze": 12, "treze": 13, "quatorze": 14, "catorze": 14,
    "quinze": 15, "dezesseis": 16, "dezasseis": 16, "dezessete": 17, "dezassete": 17,
    "dezoito": 18, "dezenove": 19, "dezanove": 19,
}
TENS = {
    "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "cincoenta": 50,
    "sessenta": 60, "setenta": 70, "oitenta": 80, "noventa": 90,
}
HUNDREDS = {
    "cem": 100, "cento": 100, "duzentos": 200, "duzentas": 200, "trezentos": 300,
    "trezentas": 300, "quatrocentos": 400, "quatrocentas": 400, "quinhentos": 500,
    "quinhentas": 500, "seiscentos": 600, "seiscentas": 600, "setecentos": 700,
    "setecentas": 700, "oitocentos": 800, "oitocentas": 800, "novecentos": 900,
    "novecentas": 900,
}
# Said around a number without changing it.
AROUND = frozenset("""
    a o e eh meu minha cpf numero n do da de chamado protocolo ticket ponto traco tracinho
    hifen virgula barra espaco digito digitos sao seria entao ok ta opcao tecla tecle aperto
    esse este isso
""".split())


_NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(HUNDREDS)


def spoken_digits(text: str) -> str | None:
    """The digits the caller said, in order; None when the answer holds anything but digits,
    number words and the words around them (or nothing at all)."""
    words = fold(text).split()
    digits: list[str] = []
    position = 0
    while position < len(words):
        word = words[position]
        if word.isdigit():  # ASCII only, after folding
            digits.append(word)
            position += 1
        elif word in AROUND:
            position += 1
        else:
            number = _number(words, position)
            if number is None:
                return None
            value, position = number
            digits.append(str(value))
        if sum(map(len, digits)) > MAX_DIGITS:
            return None
    return "".join(digits) or None


def mentions_number(text: str) -> bool:
    """A digit, or a word that says one, anywhere in the text."""
    return any(word.isdigit() or word in _NUMBER_WORDS for word in fold(text).split())


def _number(words: list[str], position: int) -> tuple[int, int] | None:
    """The number spelt from ``words[position]`` on (up to 999) and where it ends."""
    word = words[position]
    if word in HUNDREDS:
        value = HUNDREDS[word]
        if word == "cem":  # a hundred exactly: "cento" is the one that takes a rest
            return value, position + 1
        rest = _joined(words, position + 1, _below_hundred)
        if rest is None:
            return value, position + 1
        return value + rest[0], rest[1]
    return _below_hundred(words, position)


def _below_hundred(words: list[str], position: int) -> tuple[int, int] | None:
    word = words[position]
    if word in UNITS:
        return UNITS[word], position + 1
    if word in TEENS:
        return TEENS[word], position + 1
    if word in TENS:
        unit = _joined(words, position + 1, _unit)
        if unit is None:
            return TENS[word], position + 1
        return TENS[word] + unit[0], unit[1]
    return None


def _unit(words: list[str], position: int) -> tuple[int, int] | None:
    word = words[position]
    # Zero never follows "vinte e": that "e" ends the number.
    if word in UNITS and UNITS[word] > 0:
        return UNITS[word], position + 1
    return None


def _joined(words: list[str], position: int, part: Reader) -> tuple[int, int] | None:
    """``e`` then ``part``, or None (the number ends before the "e")."""
    if position + 1 < len(words) and words[position] == "e":
        return part(words, position + 1)
    return None

