"""Brazilian document numbers: CPF (a person, 11 digits) and CNPJ (a company, 14 digits).

Pure functions. A number is *normalised* by dropping the usual punctuation (``.``, ``-``, ``/``,
spaces); anything else left that is not an ASCII digit makes it invalid.
"""

from __future__ import annotations

import re

CPF_LENGTH = 11
CNPJ_LENGTH = 14

_PUNCTUATION = re.compile(r"[.\-/\s]")
_ASCII_DIGITS = re.compile(r"[0-9]*")
_CPF_WEIGHTS = (tuple(range(10, 1, -1)), tuple(range(11, 1, -1)))
_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))


def normalize_document(raw: str) -> str:
    """``529.982.247-25`` -> ``52998224725``; other characters are kept (and fail validation)."""
    return _PUNCTUATION.sub("", raw)


def _check_digit(digits: str, weights: tuple[int, ...]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def _document_problem(raw: str, length: int, weights: tuple[tuple[int, ...], ...]) -> str | None:
    digits = normalize_document(raw)
    if not _ASCII_DIGITS.fullmatch(digits):
        return "must hold digits only"
    if len(digits) != length:
        return f"must have {length} digits"
    if digits == digits[0] * length:
        return "invalid number (all digits equal)"
    body_length = length - 2
    first = _check_digit(digits[:body_length], weights[0])
    second = _check_digit(digits[:body_length] + first, weights[1])
    if digits[body_length:] != first + second:
        return "invalid check digits"
    return None


def complete_cpf(body: str) -> str:
    """The 9 digits of a CPF's ``body`` followed by their two check digits."""
    first = _check_digit(body, _CPF_WEIGHTS[0])
    return body + first + _check_digit(body + first, _CPF_WEIGHTS[1])


def cpf_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid CPF, or None when it is."""
    return _document_problem(raw, CPF_LENGTH, _CPF_WEIGHTS)


def cnpj_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid CNPJ, or None when it is."""
    return _document_problem(raw, CNPJ_LENGTH, _CNPJ_WEIGHTS)


def is_valid_cpf(raw: str) -> bool:
    return cpf_problem(raw) is None


def is_valid_cnpj(raw: str) -> bool:
    return cnpj_problem(raw) is None


def mask_cpf(raw: str) -> str:
    """``52998224725`` -> ``***.***.***-25``: only the last two digits, whatever was keyed.

    Safe for any input (an invalid CPF, 10,000 digits, letters): never shows more than two digits.
    """
    digits = "".join(ch for ch in raw if ch in "0123456789")
    tail = digits[-2:] if len(digits) >= 2 else "**"
    return f"***.***.***-{tail}"
