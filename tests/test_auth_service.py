"""The phone login rules (``docs/rules.md#login``), with time injected."""

from __future__ import annotations

import logging
from datetime import timedelta

import bcrypt
import pytest
from sqlalchemy import event, select

from auth.counters import LOCK_DURATION
from auth.errors import InvalidCpfError, InvalidPasswordError, UnknownContactError
from auth.models import CallerFailure, CallLogin, LoginAttempt
from auth.passwords import hash_cost
from auth.service import (
    LoginResult,
    caller_delay_seconds,
    check_login,
    current_login,
    end_call,
    record_login,
    set_password,
    unlock,
    verify_login,
)
from database.session import Database
from tests.conftest_auth import (
    CALLER,
    CNPJ,
    CPF,
    NOW,
    OTHER_CPF,
    PASSWORD,
    ROUNDS,
    UNKNOWN_CPF,
    WRONG_PASSWORD,
    add_contact,
    db_fixture,  # noqa: F401 - provides the "db" fixture
    load_contact,
)


def attempt(
    db: Database,
    *,
    cpf: str = CPF,
    password: str = PASSWORD,
    call_sid: str = "CA-main",
    caller: str | None = CALLER,
    at: timedelta = timedelta(0),
    rounds: int = ROUNDS,
) -> LoginResult:
    """One login attempt in its own committed transaction, as a webhook would make it."""
    with db.transaction() as session:
        return verify_login(session, cpf=cpf, password=password, call_sid=call_sid,
                            caller=caller, now=NOW + at, rounds=rounds)


def fail_in_new_calls(db: Database, times: int, *, at: timedelta = timedelta(0)) -> None:
    """Wrong passwords for CPF, each in its own call and from its own number (so neither the
    per-call limit nor the per-number delay is involved)."""
    for index in range(times):
        result = attempt(db, password=WRONG_PASSWORD, call_sid=f"CA-fail-{at}-{index}",
                         caller=f"+55119000{index:05d}", at=at)
        assert result.status in {"failed", "locked"}


def audit_results(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(LoginAttempt.result).order_by(LoginAttempt.id)))


@pytest.fixture
def contact_id(db: Database) -> int:
    return add_contact(db)


@pytest.fixture
def checked_costs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cost of every hash bcrypt.checkpw is asked to check."""
    costs: list[int] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        costs.append(hash_cost(hashed.decode()))
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return costs


# --- a good login -------------------------------------------------------------------------------


def test_right_password_logs_the_call_in(db: Database, contact_id: int) -> None:
    result = attempt(db)

    assert result.status == "ok"
    assert result.ok
    assert result.speakable == "ok"
    assert result.contact_id == contact_id
    assert result.first_name == "Maria"
    assert result.delay_seconds == 0
    with db.session() as session:
        login = current_login(session, "CA-main")
        assert login is not None
        assert login.contact_id == contact_id
        assert login.company_id == result.company_id
        assert login.first_name == "Maria"
        assert login.logged_in_at == NOW
        assert current_login(session, "CA-other") is None
        attempt_row = session.scalars(select(LoginAttempt)).one()
    assert (attempt_row.masked_cpf, attempt_row.result, attempt_row.call_sid) == (
        "***.***.***-25", "ok", "CA-main")
    assert attempt_row.caller == CALLER
    assert attempt_row.at == NOW


def test_punctuated_cpf_is_the_same_cpf(db: Database, contact_id: int) -> None:
    assert attempt(db, cpf="529.982.247-25").status == "ok"


def test_login_lasts_for_its_call_only(db: Database, contact_id: int) -> None:
    attempt(db, call_sid="CA-1")
    with db.transaction() as session:
        end_call(session, "CA-1")
    with db.session() as session:
        assert current_login(session, "CA-1") is None
        assert session.get(CallLogin, "CA-1") is None


def test_a_login_whose_call_never_ended_is_cleared_two_days_on(
    db: Database, contact_id: int
) -> None:
    """The provider's status callback ends a call's login; when it was lost, the row would stay
    for ever. Logins two days old are cleared by the next login; younger ones stay."""
    attempt(db, call_sid="CA-lost")
    attempt(db, call_sid="CA-yesterday", at=timedelta(days=1))
    attempt(db, call_sid="CA-today", at=timedelta(days=2, minutes=1))
    with db.session() as session:
        assert session.get(CallLogin, "CA-lost") is None
        assert session.get(CallLogin, "CA-yesterday") is not None
        assert current_login(session, "CA-today") is not None


def test_failures_alone_are_not_a_login(db: Database, contact_id: int) -> None:
    attempt(db, password=WRONG_PASSWORD)
    with db.session() as session:
        assert current_login(session, "CA-main") is None


# --- refusals that must sound alike ----------------------------------------------------------


def test_unknown_cpf_and_wrong_password_answer_alike_at_the_same_cost(
    db: Database, contact_id: int, checked_costs: list[int]
) -> None:
    wrong = attempt(db, password=WRONG_PASSWORD, call_sid="CA-1", caller="+551100000001")
    unknown = attempt(db, cpf=UNKNOWN_CPF, call_sid="CA-2", caller="+551100000002")

    assert wrong == unknown == LoginResult(status="failed", failures_in_call=1)
    assert checked_costs == [ROUNDS, ROUNDS]
    assert audit_results(db) == ["bad_password", "unknown_cpf"]


def test_contact_without_password_is_refused_like_a_wrong_password(
    db: Database, checked_costs: list[int]
) -> None:
    add_contact(db, password=None)
    result = attempt(db)
    assert result == LoginResult(status="failed", failures_in_call=1)
    assert checked_costs == [ROUNDS]
    assert audit_results(db) == ["no_password"]
    assert load_contact(db).failed_attempts == 0


@pytest.mark.parametrize("password", ["", "12", "12ab", "9" * 10_000])
def test_malformed_password_is_a_plain_failure(
    db: Database, contact_id: int, password: str, checked_costs: list[int]
) -> None:
    assert attempt(db, password=password).status == "failed"
    assert checked_costs == [ROUNDS]
    assert load_contact(db).failed_attempts == 1


def test_invalid_cpf_is_refused_before_any_database_look_up(
    db: Database, contact_id: int, checked_costs: list[int]
) -> None:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = attempt(db, cpf="52998224724")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert result.status == result.speakable == "invalid_cpf"
    assert result.failures_in_call == 1
    assert not [s for s in statements if "from contacts" in s or "update contacts" in s]
    assert checked_costs == []
    assert audit_results(db) == ["invalid_cpf"]
    assert load_contact(db).failed_attempts == 0


# --- 5 failures lock the contact for 30 minutes ----------------------------------------------


def test_five_failures_in_a_row_lock_the_contact_for_thirty_minutes(
    db: Database, contact_id: int
) -> None:
    fail_in_new_calls(db, 4)
    assert load_contact(db).failed_attempts == 4
    assert load_contact(db).locked_until is None

    fail_in_new_calls(db, 1, at=timedelta(minutes=1))

    contact = load_contact(db)
    assert contact.failed_attempts == 5
    assert contact.locked_until == NOW + timedelta(minutes=1) + LOCK_DURATION
    assert LOCK_DURATION == timedelta(minutes=30)
    assert audit_results(db)[-1] == "bad_password_locks"


def test_locked_contact_is_refused_even_with_the_right_password(
    db: Database, contact_id: int
) -> None:
    fail_in_new_calls(db, 5)
    result = attempt(db, call_sid="CA-right", caller="+551100000099", at=timedelta(minutes=29))

    assert result.status == "locked"
    assert result.speakable == "failed"
    assert result.contact_id is None and result.first_name is None
    assert audit_results(db)[-1] == "locked"
    with db.session() as session:
        assert current_login(session, "CA-right") is None


def test_attempts_while_locked_neither_count_nor_extend_the_lock(
    db: Database, contact_id: int
) -> None:
    fail_in_new_calls(db, 5)
    locked_until = load_contact(db).locked_until
    fail_in_new_calls(db, 2, at=timedelta(minutes=10))

    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (5, locked_until)


def test_lock_ends_after_thirty_minutes(db: Database, contact_id: int) -> None:
    fail_in_new_calls(db, 5)
    just_before = attempt(db, call_sid="CA-a", at=LOCK_DURATION - timedelta(seconds=1))
    at_expiry = attempt(db, call_sid="CA-b", at=LOCK_DURATION)

    assert just_before.status == "locked"
    assert at_expiry.status == "ok"
    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (0, None)


def test_after_the_lock_expires_counting_starts_again(db: Database, contact_id: int) -> None:
    fail_in_new_calls(db, 5)
    fail_in_new_calls(db, 4, at=LOCK_DURATION + timedelta(minutes=1))

    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (4, None)
    fail_in_new_calls(db, 1, at=LOCK_DURATION + timedelta(minutes=2))
    assert load_contact(db).locked_until == NOW + 2 * LOCK_DURATION + timedelta(minutes=2)


def test_success_resets_the_count(db: Database, contact_id: int) -> None:
    fail_in_new_calls(db, 4)
    assert attempt(db, call_sid="CA-good").status == "ok"
    assert load_contact(db).failed_attempts == 0

    fail_in_new_calls(db, 4, at=timedelta(minutes=1))
    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (4, None)


def test_failures_of_another_contact_do_not_count(db: Database, contact_id: int) -> None:
    add_contact(db, cpf=OTHER_CPF, name="João")
    for index in range(5):
        attempt(db, cpf=OTHER_CPF, password=WRONG_PASSWORD, call_sid=f"CA-{index}")
    assert load_contact(db, OTHER_CPF).locked_until is not None
    assert load_contact(db).failed_attempts == 0
    assert attempt(db, call_sid="CA-mine").status == "ok"


# --- 3 failures per call -----------------------------------------------------------------------


def test_third_failure_in_a_call_ends_the_attempts(db: Database, contact_id: int) -> None:
    first = attempt(db, password=WRONG_PASSWORD)
    second = attempt(db, cpf=UNKNOWN_CPF)
    third = attempt(db, cpf="12345678900")  # invalid check digits count too

    assert (first.status, second.status, third.status) == ("failed", "failed", "too_many_in_call")
    assert [r.failures_in_call for r in (first, second, third)] == [1, 2, 3]
    assert third.speakable == "too_many_in_call"
    # only the wrong password was this contact's failure
    assert load_contact(db).failed_attempts == 1


def test_after_three_failures_the_call_gets_no_more_password_checks(
    db: Database, contact_id: int, checked_costs: list[int]
) -> None:
    for _ in range(3):
        attempt(db, password=WRONG_PASSWORD)
    checked_costs.clear()

    result = attempt(db)  # the right password, replayed on the same call

    assert result.status == "too_many_in_call"
    assert checked_costs == []
    assert load_contact(db).failed_attempts == 3
    assert audit_results(db)[-1] == "call_limit"
    with db.session() as session:
        assert current_login(session, "CA-main") is None


def test_call_failures_are_kept_per_call(db: Database, contact_id: int) -> None:
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1")
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1")
    assert attempt(db, password=WRONG_PASSWORD, call_sid="CA-2").failures_in_call == 1
    assert attempt(db, call_sid="CA-1").status == "ok"


def test_a_locked_contact_third_failure_is_still_too_many(db: Database, contact_id: int) -> None:
    fail_in_new_calls(db, 5)
    statuses = [attempt(db, call_sid="CA-x").status for _ in range(3)]
    assert statuses == ["locked", "locked", "too_many_in_call"]


# --- growing delay per calling number ---------------------------------------------------------


def test_delay_grows_with_failures_from_one_number_across_cpfs(
    db: Database, contact_id: int
) -> None:
    add_contact(db, cpf=OTHER_CPF)
    cpfs = [CPF, OTHER_CPF, UNKNOWN_CPF, "52998224724"]
    delays = [
        attempt(db, cpf=cpfs[index % 4], password=WRONG_PASSWORD, call_sid=f"CA-{index}",
                at=timedelta(minutes=index)).delay_seconds
        for index in range(8)
    ]
    assert delays == [0, 2, 4, 8, 16, 20, 20, 20]
    assert attempt(db, password=WRONG_PASSWORD, caller="+551100000000",
                   call_sid="CA-other").delay_seconds == 0


def test_delay_restarts_after_an_hour_without_failures(db: Database, contact_id: int) -> None:
    for index in range(3):
        attempt(db, password=WRONG_PASSWORD, call_sid=f"CA-{index}", at=timedelta(minutes=index))
    later = attempt(db, password=WRONG_PASSWORD, call_sid="CA-later",
                    at=timedelta(minutes=2, hours=1))
    assert later.delay_seconds == 0
    with db.session() as session:
        assert session.get(CallerFailure, CALLER).failures == 1  # type: ignore[union-attr]


def test_success_does_not_reset_the_number_s_delay(db: Database, contact_id: int) -> None:
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1")
    assert attempt(db, call_sid="CA-2").delay_seconds == 0
    assert attempt(db, password=WRONG_PASSWORD, call_sid="CA-3").delay_seconds == 2


@pytest.mark.parametrize("caller", [None, "", "   "])
def test_withheld_numbers_share_one_count(
    db: Database, contact_id: int, caller: str | None
) -> None:
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1", caller="anonymous")
    assert attempt(db, password=WRONG_PASSWORD, call_sid="CA-2", caller=caller).delay_seconds == 2


def test_delay_schedule() -> None:
    assert [caller_delay_seconds(n) for n in range(8)] == [0, 0, 2, 4, 8, 16, 20, 20]


# --- bcrypt cost -------------------------------------------------------------------------------


def test_good_login_upgrades_a_cheaper_hash(db: Database) -> None:
    add_contact(db, rounds=4)
    assert attempt(db, rounds=5).status == "ok"

    upgraded = load_contact(db).password_hash
    assert upgraded is not None and hash_cost(upgraded) == 5
    assert attempt(db, call_sid="CA-again", rounds=5).status == "ok"
    assert load_contact(db).password_hash == upgraded  # no rehash when the cost is right


def test_good_login_rehashes_a_costlier_hash_at_the_configured_cost(db: Database) -> None:
    """After BCRYPT_ROUNDS is lowered, old hashes come down with their next good login."""
    add_contact(db, rounds=6)
    assert attempt(db, rounds=5).status == "ok"
    rehashed = load_contact(db).password_hash
    assert rehashed is not None and hash_cost(rehashed) == 5


def test_failed_login_does_not_rehash(db: Database) -> None:
    add_contact(db, rounds=4)
    before = load_contact(db).password_hash
    attempt(db, password=WRONG_PASSWORD, rounds=5)
    assert load_contact(db).password_hash == before


def test_a_wrong_password_on_a_cheaper_hash_costs_what_an_unknown_cpf_costs(
    db: Database, checked_costs: list[int]
) -> None:
    """The probe: a contact imported with a cost-4 hash answered a wrong password far sooner
    than an unknown CPF, so the time told which CPFs exist. The work must be equal."""
    add_contact(db, rounds=4)
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1", rounds=7)
    known = sum(2**cost for cost in checked_costs)
    checked_costs.clear()
    attempt(db, cpf=UNKNOWN_CPF, call_sid="CA-2", rounds=7)
    assert checked_costs == [7]
    assert known == sum(2**cost for cost in checked_costs) == 2**7


def test_default_cost_is_twelve_for_checks_and_upgrades(
    db: Database, checked_costs: list[int]
) -> None:
    add_contact(db, rounds=4)
    with db.transaction() as session:
        unknown = verify_login(session, cpf=UNKNOWN_CPF, password=PASSWORD, call_sid="CA-1",
                               caller=CALLER, now=NOW)
        good = verify_login(session, cpf=CPF, password=PASSWORD, call_sid="CA-2",
                            caller=CALLER, now=NOW)

    assert (unknown.status, good.status) == ("failed", "ok")
    assert checked_costs == [12, 4]  # the unknown CPF cost a full-price check
    upgraded = load_contact(db).password_hash
    assert upgraded is not None and hash_cost(upgraded) == 12
    assert bcrypt.checkpw(PASSWORD.encode(), upgraded.encode())


# --- bcrypt runs with no write pending ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cpf", "password", "status"),
    [
        (CPF, PASSWORD, "ok"),  # on a cost-4 hash: upgraded to cost 5
        (CPF, WRONG_PASSWORD, "failed"),
        (UNKNOWN_CPF, PASSWORD, "failed"),
        ("52998224724", PASSWORD, "invalid_cpf"),
    ],
)
def test_check_only_reads_and_record_runs_no_bcrypt(
    db: Database, checked_costs: list[int], monkeypatch: pytest.MonkeyPatch, cpf: str,
    password: str, status: str
) -> None:
    add_contact(db, rounds=4)
    hashed: list[int] = []
    real_hashpw = bcrypt.hashpw

    def spy_hashpw(secret: bytes, salt: bytes) -> bytes:
        hashed.append(hash_cost(salt.decode()))
        return real_hashpw(secret, salt)

    monkeypatch.setattr(bcrypt, "hashpw", spy_hashpw)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.transaction() as session:
            check = check_login(session, cpf=cpf, password=password, call_sid="CA-1",
                                caller=CALLER, now=NOW, rounds=5)
            session.flush()
            assert set(statements) <= {"SELECT"}
            bcrypt_so_far = (len(checked_costs), len(hashed))
            result = record_login(session, check)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert (len(checked_costs), len(hashed)) == bcrypt_so_far
    assert result.status == status
    assert CPF not in repr(check) and PASSWORD not in repr(check)
    stored = load_contact(db).password_hash
    assert stored is not None and hash_cost(stored) == (5 if status == "ok" else 4)


# --- what is logged and kept ---------------------------------------------------------------------


def test_logs_and_audit_never_hold_the_cpf_or_the_password(
    db: Database, contact_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    attempt(db, password=WRONG_PASSWORD, call_sid="CA-1")
    attempt(db, cpf="52998224724", password=WRONG_PASSWORD, call_sid="CA-1")
    attempt(db, call_sid="CA-1")

    logged = caplog.text
    assert "***.***.***-25" in logged
    for secret in (CPF, "52998224724", PASSWORD, WRONG_PASSWORD):
        assert secret not in logged
    with db.session() as session:
        rows = session.scalars(select(LoginAttempt)).all()
    assert [r.masked_cpf for r in rows] == ["***.***.***-25", "***.***.***-24", "***.***.***-25"]
    assert [r.contact_id for r in rows] == [contact_id, None, contact_id]


def test_call_sid_must_fit(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="call_sid"):
        verify_login(session, cpf=CPF, password=PASSWORD, call_sid="C" * 65, caller=CALLER,
                     now=NOW, rounds=ROUNDS)


# --- admin operations --------------------------------------------------------------------------


def test_set_password_stores_a_hash_of_the_requested_cost_and_clears_the_lock(
    db: Database, contact_id: int
) -> None:
    fail_in_new_calls(db, 5)
    with db.transaction() as session:
        set_password(session, "529.982.247-25", "7413", now=NOW, rounds=5)

    contact = load_contact(db)
    assert contact.password_hash is not None and hash_cost(contact.password_hash) == 5
    assert (contact.failed_attempts, contact.locked_until, contact.updated_at) == (0, None, NOW)
    assert attempt(db, password="7413", call_sid="CA-new", at=timedelta(minutes=1)).ok
    assert attempt(db, call_sid="CA-old", at=timedelta(minutes=2)).status == "failed"


@pytest.mark.parametrize(
    ("cpf", "password", "error"),
    [
        (CPF, "12a4", InvalidPasswordError),
        (CPF, "123", InvalidPasswordError),
        ("52998224724", "4821", InvalidCpfError),
        (UNKNOWN_CPF, "4821", UnknownContactError),
    ],
)
def test_set_password_refuses(
    db: Database, contact_id: int, cpf: str, password: str, error: type[Exception]
) -> None:
    before = load_contact(db).password_hash
    with db.transaction() as session, pytest.raises(error) as raised:
        set_password(session, cpf, password, now=NOW, rounds=ROUNDS)
    assert cpf not in str(raised.value) and password not in str(raised.value)
    assert load_contact(db).password_hash == before


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("0000", "one digit repeated, like 0000"),
        ("999999", "one digit repeated, like 0000"),
        ("1234", "consecutive digits, like 1234, 7890 or 4321"),
        ("654321", "consecutive digits, like 1234, 7890 or 4321"),
        ("0123456789", "consecutive digits, like 1234, 7890 or 4321"),
        ("7890", "consecutive digits, like 1234, 7890 or 4321"),
        ("5299", "digits of the contact's own CPF"),  # its first digits (CPF 529.982.247-25)
        ("4725", "digits of the contact's own CPF"),  # its last
        ("9822472", "digits of the contact's own CPF"),
    ],
)
def test_set_password_refuses_a_password_too_easy_to_guess(
    db: Database, contact_id: int, password: str, reason: str
) -> None:
    before = load_contact(db).password_hash
    with db.transaction() as session, pytest.raises(InvalidPasswordError) as raised:
        set_password(session, "529.982.247-25", password, now=NOW, rounds=ROUNDS)
    assert str(raised.value) == f"the password is too easy to guess ({reason})"
    assert load_contact(db).password_hash == before


def test_unlock_lets_the_contact_in_again(db: Database, contact_id: int) -> None:
    fail_in_new_calls(db, 5)
    with db.transaction() as session:
        unlock(session, CPF)
    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (0, None)
    assert attempt(db, call_sid="CA-after", at=timedelta(minutes=1)).ok


def test_unlock_unknown_contact(db: Database) -> None:
    add_contact(db, cnpj=CNPJ)
    with db.transaction() as session, pytest.raises(UnknownContactError):
        unlock(session, UNKNOWN_CPF)


def test_a_refusal_counts_for_the_call_and_the_number(db: Database, contact_id: int) -> None:
    attempt(db, password=WRONG_PASSWORD)
    with db.session() as session:
        assert session.get(CallLogin, "CA-main").failures == 1  # type: ignore[union-attr]
        assert session.get(CallerFailure, CALLER).failures == 1  # type: ignore[union-attr]
