"""The phone password rule and the bcrypt helpers."""

from __future__ import annotations

import bcrypt
import pytest

from auth.passwords import (
    MAX_CHECKED_ROUNDS,
    dummy_hash,
    hash_cost,
    hash_password,
    importable_costs,
    is_valid_password,
    looks_like_bcrypt_hash,
    password_matches,
    password_problem,
    too_costly,
)


@pytest.mark.parametrize("password", ["1234", "000000", "123456789012"])
def test_four_to_twelve_digits_are_a_password(password: str) -> None:
    assert is_valid_password(password)


@pytest.mark.parametrize("password", ["123", "1234567890123", "12a4", "", " 1234", "１２３４"])
def test_anything_else_is_not(password: str) -> None:
    assert not is_valid_password(password)
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_password(password, 4)


@pytest.mark.parametrize(
    "password",
    ["0000", "1111", "999999", "000000000000",  # one digit repeated
     "1234", "4321", "0123", "3210", "123456", "654321", "0123456789", "9876543210",  # runs
     "7890", "8901", "9012", "0987", "1098", "567890123", "21098765",  # going round 9 -> 0
     "52998224725"[:4], "52998224725"[-4:], "9982247", "52998224725"],  # the CPF's digits
)
def test_passwords_too_easy_to_guess_may_not_be_set(password: str) -> None:
    # fixed texts: a message never repeats the password
    assert password_problem(password, "52998224725") in {
        "is too easy to guess (one digit repeated, like 0000)",
        "is too easy to guess (consecutive digits, like 1234, 7890 or 4321)",
        "is too easy to guess (digits of the contact's own CPF)",
    }


@pytest.mark.parametrize(
    "password",
    ["482913", "135790", "1357", "2468", "7531", "1243", "0001", "1212", "12345670",
     "5298", "29928", "47252"],  # near the CPF, but not 4 digits of it in a row
)
def test_other_passwords_may_be_set(password: str) -> None:
    assert password_problem(password, "52998224725") is None


def test_without_a_cpf_only_the_patterns_are_checked() -> None:
    assert password_problem("5299") is None
    assert password_problem("5555") is not None
    assert password_problem("12a4") == "must be 4 to 12 digits"


def test_hash_has_the_requested_cost_and_matches() -> None:
    password_hash = hash_password("482913", 5)
    assert hash_cost(password_hash) == 5
    assert looks_like_bcrypt_hash(password_hash)
    assert password_matches("482913", password_hash, rounds=5)
    assert not password_matches("482914", password_hash, rounds=5)


@pytest.mark.parametrize("rounds", [3, 32])
def test_rounds_out_of_bcrypt_range_are_refused(rounds: int) -> None:
    with pytest.raises(ValueError, match="rounds"):
        hash_password("1234", rounds)


@pytest.mark.parametrize("password", ["9" * 10_000, "letters", "", "1234\x00"])
def test_malformed_passwords_never_match_nor_raise(password: str) -> None:
    assert not password_matches(password, hash_password("1234", 4), rounds=4)
    assert not password_matches(password, None, rounds=4)


def test_without_a_hash_the_dummy_of_the_same_cost_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[int] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(hash_cost(hashed.decode()))
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    assert not password_matches("1234", None, rounds=5)
    assert checked == [5]
    assert hash_cost(dummy_hash(5)) == 5


@pytest.mark.parametrize(
    ("value", "looks_right"),
    [
        ("$2b$12$" + "a" * 53, True),
        ("$2a$04$" + "./AZaz09" * 6 + "abcde", True),
        ("$2b$12$" + "a" * 52, False),
        ("$2b$03$" + "a" * 53, False),
        ("$2b$32$" + "a" * 53, False),
        ("$argon2id$v=19$m=65536,t=3,p=4$abc", False),
        ("482913", False),
        ("$2b$12$" + "a" * 52 + "!", False),
    ],
)
def test_bcrypt_hash_shape(value: str, looks_right: bool) -> None:
    assert looks_like_bcrypt_hash(value) is looks_right


def test_a_hash_too_costly_to_check_never_matches_and_costs_the_dummy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[int] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(hash_cost(hashed.decode()))
        assert hash_cost(hashed.decode()) <= MAX_CHECKED_ROUNDS, "would hold the worker for days"
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    assert MAX_CHECKED_ROUNDS == 14
    costly = "$2b$31$" + "a" * 53  # bcrypt would run 2**31 rounds on it
    assert too_costly(costly) and too_costly("$2b$15$" + "a" * 53)
    assert not too_costly("$2b$14$" + "a" * 53)
    assert not too_costly("$2b$15$" + "a" * 53, rounds=15)  # BCRYPT_ROUNDS set higher still
    assert not password_matches("1234", costly, rounds=4)
    assert checked == [4]


@pytest.fixture
def checked_costs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    costs: list[int] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        costs.append(hash_cost(hashed.decode()))
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return costs


def work(costs: list[int]) -> int:
    """bcrypt's work for checks of these costs, in units of one round (it doubles per cost)."""
    return sum(2**cost for cost in costs)


@pytest.mark.parametrize("password", ["591827", "12ab"])
@pytest.mark.parametrize("cost", [4, 5, 6])
def test_a_refusal_on_a_cheaper_hash_is_padded_to_the_work_of_one_check_at_rounds(
    checked_costs: list[int], password: str, cost: int
) -> None:
    """The probe's timing attack: a cost-4 hash refused a wrong password in 6 ms where an unknown
    CPF (the dummy, at BCRYPT_ROUNDS) took 218 ms. Now both do the work of one check at rounds."""
    stored = hash_password("482913", cost)
    checked_costs.clear()
    assert not password_matches(password, stored, rounds=7)
    assert checked_costs[0] == cost  # the real check first
    assert checked_costs[1:] == list(range(cost, 7))
    refused_on_the_hash = work(checked_costs)

    checked_costs.clear()
    assert not password_matches(password, None, rounds=7)
    assert refused_on_the_hash == work(checked_costs) == 2**7


def test_a_good_password_on_a_cheaper_hash_is_not_padded(checked_costs: list[int]) -> None:
    stored = hash_password("482913", 4)
    checked_costs.clear()
    assert password_matches("482913", stored, rounds=7)
    assert checked_costs == [4]


def test_a_hash_at_rounds_is_checked_once(checked_costs: list[int]) -> None:
    stored = hash_password("482913", 5)
    checked_costs.clear()
    assert not password_matches("591827", stored, rounds=5)
    assert checked_costs == [5]


def test_importable_costs_run_from_owasp_s_floor_to_the_configured_cost() -> None:
    assert importable_costs(12) == range(10, 13)
    assert importable_costs(16) == range(10, 17)
    assert importable_costs(10) == range(10, 11)
    assert importable_costs(4) == range(4, 5)  # tests only: the floor is the configured cost
