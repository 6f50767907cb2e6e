"""CPF and CNPJ check digits, normalisation and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.documents import (
    cnpj_problem,
    complete_cpf,
    cpf_problem,
    is_valid_cnpj,
    is_valid_cpf,
    mask_cpf,
    normalize_document,
)
from tests.conftest_auth import CNPJ, CPF, OTHER_CNPJ, OTHER_CPF, THIRD_CPF, UNKNOWN_CPF


def reference_check_digit(digits: list[int]) -> int:
    """The textbook rule, written independently: weights count down to 2 (CNPJ wraps 9..2)."""
    length = len(digits)
    if length in (9, 10):  # CPF
        weights = list(range(length + 1, 1, -1))
    else:  # CNPJ: 12 or 13 digits
        weights = ([5, 4, 3, 2] if length == 12 else [6, 5, 4, 3, 2]) + [9, 8, 7, 6, 5, 4, 3, 2]
    total = sum(d * w for d, w in zip(digits, weights, strict=True))
    return 0 if total % 11 < 2 else 11 - total % 11


def with_check_digits(body: list[int]) -> str:
    first = reference_check_digit(body)
    second = reference_check_digit([*body, first])
    return "".join(map(str, [*body, first, second]))


@pytest.mark.parametrize("cpf", [CPF, OTHER_CPF, THIRD_CPF, UNKNOWN_CPF, "529.982.247-25",
                                 " 529 982 247 25 "])
def test_valid_cpfs_are_accepted(cpf: str) -> None:
    assert cpf_problem(cpf) is None
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize(
    ("cpf", "problem"),
    [
        ("52998224735", "invalid check digits"),  # first check digit wrong
        ("52998224726", "invalid check digits"),  # second check digit wrong
        ("11111111111", "invalid number (all digits equal)"),  # passes the arithmetic
        ("00000000000", "invalid number (all digits equal)"),
        ("5299822472", "must have 11 digits"),
        ("529982247250", "must have 11 digits"),
        ("", "must have 11 digits"),
        ("5299822472a", "must hold digits only"),
        ("５２９９８２２４７２５", "must hold digits only"),  # full-width digits
        ("529,982,247,25", "must hold digits only"),
    ],
)
def test_invalid_cpfs_say_why(cpf: str, problem: str) -> None:
    assert cpf_problem(cpf) == problem
    assert not is_valid_cpf(cpf)


@pytest.mark.parametrize("cnpj", [CNPJ, OTHER_CNPJ, "11.222.333/0001-81"])
def test_valid_cnpjs_are_accepted(cnpj: str) -> None:
    assert cnpj_problem(cnpj) is None
    assert is_valid_cnpj(cnpj)


@pytest.mark.parametrize(
    ("cnpj", "problem"),
    [
        ("11222333000191", "invalid check digits"),
        ("11222333000182", "invalid check digits"),
        ("00000000000000", "invalid number (all digits equal)"),
        ("1122233300018", "must have 14 digits"),
        ("52998224725", "must have 14 digits"),  # a CPF is not a CNPJ
        ("1122233300018x", "must hold digits only"),
    ],
)
def test_invalid_cnpjs_say_why(cnpj: str, problem: str) -> None:
    assert cnpj_problem(cnpj) == problem


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1))
def test_any_cpf_with_right_check_digits_is_valid_and_one_changed_digit_is_not(
    body: list[int],
) -> None:
    cpf = with_check_digits(body)
    assert is_valid_cpf(cpf)
    changed_last = cpf[:-1] + str((int(cpf[-1]) + 1) % 10)
    assert not is_valid_cpf(changed_last)


@given(st.lists(st.integers(0, 9), min_size=12, max_size=12).filter(lambda d: len(set(d)) > 1))
def test_any_cnpj_with_right_check_digits_is_valid_and_one_changed_digit_is_not(
    body: list[int],
) -> None:
    cnpj = with_check_digits(body)
    assert is_valid_cnpj(cnpj)
    changed_first_check = cnpj[:12] + str((int(cnpj[12]) + 1) % 10) + cnpj[13]
    assert not is_valid_cnpj(changed_first_check)


def test_normalize_drops_only_punctuation() -> None:
    assert normalize_document("529.982.247-25") == "52998224725"
    assert normalize_document("11.222.333/0001-81") == "11222333000181"
    assert normalize_document("52a") == "52a"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (CPF, "***.***.***-25"),
        ("529.982.247-25", "***.***.***-25"),
        ("52998224724", "***.***.***-24"),  # invalid, still masked
        ("1" * 10_000 + "98", "***.***.***-98"),
        ("7", "***.***.***-**"),
        ("", "***.***.***-**"),
        ("abc", "***.***.***-**"),
    ],
)
def test_mask_cpf_shows_the_last_two_digits_only(raw: str, masked: str) -> None:
    assert mask_cpf(raw) == masked


def test_a_cpf_body_is_completed_with_its_check_digits() -> None:
    assert complete_cpf("529982247") == "52998224725"
    assert all(is_valid_cpf(complete_cpf(f"{body:09d}")) for body in range(1, 100_000, 997))
