"""Replay: calls made through gunicorn are recorded step by step (never a secret's digits), and
``flask menus diff OLD NEW`` replays them through both files: the callers who would end
elsewhere, one line each. SQLite, or PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app, shutdown
from ivr.calls.models import CallStep
from ivr.calls.steps import kept_keys
from ivr.menu import Menu, load_menu
from ivr.replay import RecordedCall, RecordedStep, compare, replay
from tests.conftest import (
    AUTH_TOKEN,
    JOAO_CPF,
    JOAO_PASSWORD,
    MARIA_CPF,
    MARIA_PASSWORD,
    ROOT,
    call_form,
)
from tests.e2e import LiveServer, live_server
from tests.menu_edits import edited_menu, move_option, remove_node, set_field
from tests.twiml import Doc

SHIPPED = ROOT / "menus.yaml"
TUESDAY = datetime.fromisoformat("2026-12-01T10:00:00-03:00")
WRONG_PASSWORD = "917364"
SECRETS = (MARIA_CPF, MARIA_PASSWORD, JOAO_CPF, JOAO_PASSWORD, WRONG_PASSWORD)


def sid(n: int) -> str:
    return f"CA{n:032d}"


@dataclass
class Recorded:
    live: LiveServer
    sids: dict[str, str]  # what the call did -> its CallSid


def place(live: LiveServer, call_sid: str, answers: list[str]) -> int:
    """A call through gunicorn: each answer goes to the next Gather (keys, "" for silence),
    Dial (its status) or Record (a recording URL); redirects are followed. The webhooks
    posted."""
    posts = 1
    doc = post(live, "/voice", call_sid)
    for answer in answers:
        while doc.is_redirect_only:
            doc, posts = post(live, doc.next_url(), call_sid), posts + 1
        field = {"Gather": "Digits", "Dial": "DialCallStatus", "Record": "RecordingUrl"}[
            next(tag for tag in ("Gather", "Dial", "Record") if doc.first(tag) is not None)]
        doc, posts = post(live, doc.next_url(), call_sid, **({field: answer} if answer else {})), \
            posts + 1
    return posts


def post(live: LiveServer, url: str, call_sid: str, **fields: str) -> Doc:
    response = live.caller.post(url, call_form(call_sid, **fields))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    with live_server(tmp_path_factory.mktemp("replay")) as live:
        calls = {
            "cadastro": ["7", "completed"],
            "educacional": ["2", "2", "3", "9", "9", "1", MARIA_CPF, MARIA_PASSWORD, "completed"],
            "nfe busy": ["2", "2", "3", "9", "9", "3", JOAO_CPF, JOAO_PASSWORD, "busy",
                         "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"],
            "hung up in linha_rm": ["2", "2"],
            "ticket then cadastro": ["12345678", MARIA_CPF, MARIA_PASSWORD, "0", "7", "completed"],
            "login refused": ["2", "2", "3", "9", "9", "2"] + [JOAO_CPF, WRONG_PASSWORD] * 3,
            "silences": ["", "", ""],
        }
        sids, posts = {}, 0
        for n, (name, answers) in enumerate(calls.items()):
            sids[name] = sid(7000 + n)
            posts += place(live, sids[name], answers)
        wait_for_steps(live, posts)
        yield Recorded(live, sids)


def wait_for_steps(live: LiveServer, count: int) -> None:
    """The workers write steps in batches after half a second: wait until all are there."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with live.database.transaction() as session:
            if (session.scalar(select(func.count()).select_from(CallStep)) or 0) >= count:
                return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} steps recorded")


def menus_diff(recorded: Recorded, old: Path, new: Path, *extra: str) -> tuple[int, list[str]]:
    app = create_app({"DATABASE_URL": recorded.live.database.url, "MENUS_FILE": SHIPPED,
                      "TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    try:
        result = app.test_cli_runner().invoke(args=["menus", "diff", str(old), str(new), *extra])
    finally:
        shutdown(app)
    return result.exit_code, result.stdout.splitlines()


def test_an_identical_copy_changes_nothing(recorded: Recorded, tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(SHIPPED.read_bytes())
    assert menus_diff(recorded, SHIPPED, copy) == (0, ["7 calls replayed, 0 would end elsewhere"])


def test_moving_an_option_strands_its_callers(recorded: Recorded, tmp_path: Path) -> None:
    moved = edited_menu(tmp_path / "moved.yaml", move_option("principal", "7", "8"))
    status, lines = menus_diff(recorded, SHIPPED, moved)
    assert status == 0
    assert lines == [
        f"{recorded.sids['cadastro']}: transferred cadastro:+5511900000007 -> dead_end principal",
        f"{recorded.sids['ticket then cadastro']}: transferred cadastro:+5511900000007 -> "
        "dead_end principal",
        "7 calls replayed, 2 would end elsewhere",
    ]
    assert menus_diff(recorded, moved, SHIPPED)[1][-1] == \
        "7 calls replayed, 2 would end elsewhere"  # the other way round


def test_removing_a_node_names_it(recorded: Recorded, tmp_path: Path) -> None:
    without = edited_menu(tmp_path / "without.yaml",
                          remove_node("cadastro", repoint=("principal", "7", "atendente")))
    status, lines = menus_diff(recorded, SHIPPED, without)
    assert status == 0
    gone = "(no longer in the menu: cadastro)"
    assert lines == [
        f"{recorded.sids['cadastro']}: transferred cadastro:+5511900000007 -> "
        f"transferred atendente:+5511900000000 {gone}",
        f"{recorded.sids['ticket then cadastro']}: transferred cadastro:+5511900000007 -> "
        f"transferred atendente:+5511900000000 {gone}",
        "7 calls replayed, 2 would end elsewhere",
    ]


def test_calls_limits_the_replay_to_the_last_ones(recorded: Recorded, tmp_path: Path) -> None:
    moved = edited_menu(tmp_path / "moved.yaml", move_option("principal", "7", "8"))
    # The last three: the ticket then cadastro, the refused login, the silences.
    assert menus_diff(recorded, SHIPPED, moved, "--calls", "3")[1] == [
        f"{recorded.sids['ticket then cadastro']}: transferred cadastro:+5511900000007 -> "
        "dead_end principal",
        "3 calls replayed, 1 would end elsewhere"]


def test_the_outcomes_replay_cannot_know_are_kept(recorded: Recorded) -> None:
    calls = {call.call_sid: call for call in recent(recorded)}
    shipped = load_menu(SHIPPED)
    ends = {name: str(replay(shipped, calls[call_sid]).end)
            for name, call_sid in recorded.sids.items()}
    assert ends == {
        "cadastro": "transferred cadastro:+5511900000007",
        "educacional": "transferred educacional:+5511900000001",
        "nfe busy": "voicemail recado",
        "hung up in linha_rm": "hung_up linha_rm",
        "ticket then cadastro": "transferred cadastro:+5511900000007",
        "login refused": "login_failed gestao_financeira",
        "silences": "retries_exhausted principal",
    }


def test_no_secret_digits_are_stored(recorded: Recorded) -> None:
    with recorded.live.database.transaction() as session:
        steps = session.scalars(select(CallStep)).all()
    texts = [value for step in steps for value in (step.step, step.node, step.keys, step.result,
                                                   step.outcome, step.outcome_detail) if value]
    assert len(steps) > 40 and any("login_ok" == text for text in texts)
    assert [text for text in texts for secret in SECRETS if secret in text] == []
    logins = [step for step in steps if step.step in {"auth.cpf", "auth.password"}]
    assert len(logins) == 12  # three good logins, three refused
    assert {step.keys for step in logins} == {None}
    assert sorted({step.key_count for step in logins}) == [6, 11]
    entry = [step for step in steps if step.step == "ivr.step" and step.key_count == 8]
    assert [step.keys for step in entry] == [None]  # the ticket number keyed at the main menu


def recent(recorded: Recorded) -> list[RecordedCall]:
    from ivr.calls.history import recent_calls

    return recent_calls(recorded.live.database, 100)


# -- replay rules, on hand-made recordings ------------------------------------------------------


def step(name: str, node: str, keys: str | None = None, count: int | None = None,
         result: str | None = None, **outcome: Any) -> RecordedStep:
    return RecordedStep(step=name, node=node, at=TUESDAY, keys=keys,
                        key_count=len(keys or "") if count is None else count, result=result,
                        outcome=outcome.get("kind"), outcome_detail=outcome.get("detail"))


LOGIN_STEPS = (step("auth.login", "educacional"), step("auth.cpf", "educacional", count=11),
               step("auth.password", "educacional", count=6, result="login_ok"))
TO_EDUCACIONAL = tuple(step("ivr.step", node, key) for node, key in [
    ("principal", "2"), ("suporte", "2"), ("linha_rm", "3"), ("educacao", "9"), ("ofertas", "9"),
    ("oferta_p", "1")])
EDUCACIONAL = RecordedCall("CA1", TUESDAY, TO_EDUCACIONAL + LOGIN_STEPS + (
    step("ivr.dialed", "educacional", result="completed"),))
CADASTRO = RecordedCall("CA2", TUESDAY, (step("ivr.step", "principal", "7"),
                                         step("ivr.dialed", "cadastro", result="completed")))


def menu_with(tmp_path: Path, *changes: Any) -> Menu:
    def change(data: Any) -> None:
        for each in changes:
            each(data)

    return load_menu(edited_menu(tmp_path / "edited.yaml", change))


def test_a_login_no_longer_asked_for_is_skipped(tmp_path: Path) -> None:
    open_team = menu_with(tmp_path, set_field("educacional", "auth", False))
    assert str(replay(open_team, EDUCACIONAL).end) == "transferred educacional:+5511900000001"


def test_a_login_now_asked_for_is_needed_unless_the_call_logged_in(tmp_path: Path) -> None:
    locked = menu_with(tmp_path, set_field("cadastro", "auth", True))
    assert str(replay(locked, CADASTRO).end) == "login_needed cadastro"
    logged_in_later = RecordedCall("CA3", TUESDAY, CADASTRO.steps[:1] + LOGIN_STEPS[1:]
                                   + CADASTRO.steps[1:])
    assert str(replay(locked, logged_in_later).end) == "transferred cadastro:+5511900000007"


def test_a_failure_replays_as_the_apology_and_a_person() -> None:
    failed = RecordedCall("CA4", TUESDAY, TO_EDUCACIONAL + LOGIN_STEPS[:2] + (
        step("auth.password", "", count=6, result="error"),))
    assert str(replay(load_menu(SHIPPED), failed).end) == "error"


def test_compare_reports_only_calls_that_end_elsewhere(tmp_path: Path) -> None:
    moved = menu_with(tmp_path, move_option("principal", "7", "8"))
    results = compare(load_menu(SHIPPED), moved, [EDUCACIONAL, CADASTRO])
    assert [(r.call_sid, r.differs) for r in results] == [("CA1", False), ("CA2", True)]
    assert results[1].line == "CA2: transferred cadastro:+5511900000007 -> dead_end principal"


@pytest.mark.parametrize(("digits", "secret", "kept"), [
    ("7", False, "7"), ("*", False, "*"), ("", False, None), ("12345678", False, None),
    ("5", True, None), (MARIA_CPF, True, None)])
def test_a_step_keeps_a_single_key_only_outside_secret_prompts(digits: str, secret: bool,
                                                               kept: str | None) -> None:
    assert kept_keys(digits, secret) == kept
