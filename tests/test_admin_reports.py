"""The console's numbers: calls walked through the webhooks, counted live and from rollups,
shown on its pages; recent calls masked and searchable; the menu's diagram; an edit's preview."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import delete, select

from admin.facts import call_facts
from admin.masking import mask_text
from admin.models import RolledDay
from admin.reports import caller_logins, parse_period, totals
from admin.rollups import roll_up
from auth.models import LoginAttempt
from ivr.calls.models import Call
from ivr.calls.recorder import CallRecorder
from ivr.menu import MenuError, parse_menu
from surveys.models import SurveyAnswer
from tests.admin_calls import (
    EXPECTED_CALLS,
    EXPECTED_FUNNEL,
    EXPECTED_TRANSFERS,
    make_calls,
    sid,
)
from tests.conftest import ROOT, Clock, SignedClient
from tests.conftest_admin import browser_fixture, console_fixture, csrf_token  # noqa: F401
from tests.menu_edits import edited_menu, move_option
from tests.schema import schema_differences

ZONE = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def calls_made(console: Flask) -> None:
    """The five calls of ``tests.admin_calls``, their records written (no writer thread)."""
    console.extensions["call_recorder"].close()
    recorder = CallRecorder(console.extensions["database"], background=False)
    console.extensions["call_recorder"] = recorder
    make_calls(SignedClient(console.test_client()))
    recorder.flush()


def cell(page: bytes, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<'.encode(), page)
    assert found, element_id
    return found.group(1).decode()


def table_rows(page: bytes, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>'.encode(), page, re.S)
    assert table, table_id
    rows = re.findall(rb"<tr>(.*?)</tr>", table.group(0), re.S)
    return [[re.sub(rb"<[^>]+>", b"", c).decode().strip()
             for c in re.findall(rb"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in rows]


@pytest.mark.usefixtures("calls_made")
def test_the_overview_counts_the_calls_made(browser: FlaskClient) -> None:
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert cell(page.data, "calls-total") == str(EXPECTED_CALLS)
    assert cell(page.data, "self-served") == "0"
    transfers = {row[0]: row[1:] for row in table_rows(page.data, "transfers")}
    header = transfers.pop("team (node)")
    assert dict(zip(header, transfers["cadastro"], strict=True)) == {
        "answered": "1", "busy": "1", "total": "2"}
    outcomes = {row[0]: row[1] for row in table_rows(page.data, "outcomes")[1:]}
    assert outcomes == {"served without a person": "0", "with a person or voicemail": "2",
                        "closed hours": "0", "gave up": "3", "other or still on": "0"}
    per_day = dict(row for row in table_rows(page.data, "calls-per-day")[1:])
    assert per_day["2026-12-01"] == "5" and sum(map(int, per_day.values())) == 5
    assert page.data.count(b'<img class="chart" src="data:image/svg+xml;base64,') >= 5


@pytest.mark.usefixtures("calls_made")
def test_rollups_count_what_the_live_count_does(console: Flask, clock: Clock) -> None:
    database = console.extensions["database"]
    period, _ = parse_period("2026-11-25", "2026-12-03", clock(), ZONE)
    with database.transaction() as session:
        for n, result in enumerate(["ok", "bad_password", "bad_password_locks", "locked"]):
            session.add(LoginAttempt(at=clock() + timedelta(minutes=n), masked_cpf="***",
                                     caller="+5511987654321", call_sid=sid(1), result=result))
    with database.transaction() as session:
        live = totals(session, period)
        live_logins = caller_logins(session, period)
    assert {group: sum(days.values()) for group, days in live_logins.items()} == {
        "ok": 1, "failed": 1, "locked": 2}
    assert live.calls == EXPECTED_CALLS
    assert dict(live.transfers) == EXPECTED_TRANSFERS
    assert live.funnel == EXPECTED_FUNNEL

    assert roll_up(database, clock()) == []  # today is not over: nothing to roll up yet
    clock.moment += timedelta(days=2)
    rolled = roll_up(database, clock())
    assert [day.isoformat() for day in rolled] == ["2026-12-01", "2026-12-02"]
    assert roll_up(database, clock()) == []  # once only
    with database.transaction() as session:
        session.execute(delete(Call))  # the rollups alone now hold these calls and logins
        session.execute(delete(LoginAttempt))
        assert session.scalar(select(RolledDay.calls).where(
            RolledDay.day == rolled[0])) == EXPECTED_CALLS
    with database.transaction() as session:
        assert totals(session, period) == live
        assert caller_logins(session, period) == live_logins


def test_an_unanswered_transfer_is_kept_past_its_voice_message(
        console: Flask, calls_made: None) -> None:
    with console.extensions["database"].transaction() as session:
        call = session.get(Call, sid(2))
        assert call is not None
        assert (call.outcome, call.transfer_result) == ("voicemail", "cadastro:busy")


@pytest.mark.parametrize(("record", "outcome", "node", "transfers", "gave_up", "exhausted"), [
    (("principal,cadastro", "cadastro", "transferred", "cadastro:+5511900000007", None),
     "transferred", "cadastro", (("cadastro", "answered"),), None, None),
    (("principal,cadastro,fora_do_horario", "fora_do_horario", "closed", "cadastro", None),
     "closed", "cadastro", (("cadastro", "closed"),), None, None),
    (("principal,educacional", "educacional", "unanswered", "educacional:no-answer", None),
     "unanswered", "educacional", (("educacional", "no-answer"),), None, None),
    (("principal,suporte", "suporte", "gave_up", "login:educacional", None),
     "gave_up", "educacional", (), "educacional", None),
    (("principal,atendente", "atendente", "retries_exhausted", "principal", None),
     "retries_exhausted", "principal", (), None, "principal"),
    (("", None, None, None, None), "", "", (), None, None),
])
def test_what_a_record_tells(record: tuple[str, str | None, str | None, str | None, None],
                             outcome: str, node: str, transfers: tuple[tuple[str, str], ...],
                             gave_up: str | None, exhausted: str | None) -> None:
    facts = call_facts(*record)
    assert (facts.outcome, facts.node, facts.transfers) == (outcome, node, transfers)
    assert (facts.gave_up_at, facts.retries_exhausted_at) == (gave_up, exhausted)
    assert set(record[0].split(",")) - {""} <= facts.reached


@pytest.mark.usefixtures("calls_made")
def test_the_funnel_page_shows_each_node(browser: FlaskClient) -> None:
    page = browser.get("/admin/funnel?from=2026-12-01&to=2026-12-01")
    rows = {row[0]: row[2:5] for row in table_rows(page.data, "funnel")[1:]}
    for node, counts in EXPECTED_FUNNEL.items():
        assert rows[node] == [str(counts["reached"]), str(counts["gave_up"]),
                              str(counts["retries_exhausted"])], node
    assert rows["nfe"] == ["0", "0", "0"]  # in the menu, reached by no one

    before = browser.get("/admin/funnel?from=2026-11-01&to=2026-11-30")
    assert {row[0]: row[2] for row in table_rows(before.data, "funnel")[1:]}["principal"] == "0"


def test_a_bad_period_says_so_and_shows_the_last_week(browser: FlaskClient) -> None:
    for query, problem in [("from=yesterday", b"YYYY-MM-DD"),
                           ("from=2026-12-01&to=2026-11-01", b"ends before it starts"),
                           ("from=2024-01-01&to=2026-12-01", b"at most 366 days")]:
        page = browser.get(f"/admin/funnel?{query}")
        assert page.status_code == 200
        assert problem in page.data
        assert b'value="2026-11-25"' in page.data  # the last 7 days up to the clock's day


@pytest.mark.usefixtures("calls_made")
def test_a_node_page_has_its_numbers_and_calls(browser: FlaskClient) -> None:
    page = browser.get("/admin/nodes/cadastro")
    numbers = dict(table_rows(page.data, "node-numbers"))
    assert numbers == {"reached": "2", "gave up there": "0", "retries exhausted": "0"}
    assert dict(table_rows(page.data, "node-transfers")) == {"answered": "1", "busy": "1"}
    assert sid(1).encode() in page.data  # ended there
    assert browser.get("/admin/nodes/no_such_node").status_code == 404


@pytest.mark.usefixtures("calls_made")
def test_recent_calls_are_masked_and_searchable(browser: FlaskClient) -> None:
    page = browser.get("/admin/calls")
    assert page.data.count(b"+55*******4321") == EXPECTED_CALLS
    assert b"5511987654321" not in page.data and b"987654321" not in page.data
    assert "principal → cadastro → recado".encode() in page.data

    one = browser.get(f"/admin/calls?q={sid(2).upper().replace('CA', 'CA', 1)}")
    assert one.data.count(b'<td class="mono">CA') == 1 and sid(2).encode() in one.data
    by_number = browser.get("/admin/calls?q=(11) 98765-4321")
    assert by_number.data.count(b'<td class="mono">CA') == EXPECTED_CALLS
    assert browser.get("/admin/calls?q=+5511900001111").data.count(b"<td class=\"mono\">CA") == 0
    assert b"not a CallSid nor a phone number" in browser.get("/admin/calls?q=hello").data


def test_masking() -> None:
    from admin.masking import mask_number, mask_text

    assert mask_number("+5511987654321") == "+55*******4321"
    assert mask_number("sip:maria@example.com") == "***"
    assert mask_text("specialist:12345678:+5511999990001") == "specialist:12345678:+55*******0001"
    assert mask_text("cpf 52998224725") == "cpf ***.***.***-25"


def test_the_menu_diagram_links_each_node(browser: FlaskClient, console: Flask) -> None:
    page = browser.get("/admin/menu")
    assert page.status_code == 200
    svg = re.search(rb'<div class="diagram" id="diagram">(.*?)</div>', page.data, re.S)
    assert svg and svg.group(1).lstrip().startswith(b"<svg")
    nodes = console.extensions["menu_registry"].current().spec.nodes
    links = set(re.findall(rb'xlink:href="/admin/nodes/([a-z_0-9]+)"', svg.group(1)))
    assert links == {name.encode() for name in nodes}
    assert b"key 7" in svg.group(1)  # the options' keys label the arrows


def upload(browser: FlaskClient, text: str, name: str = "menus.yaml") -> tuple[int, bytes]:
    import io

    token = csrf_token(browser.get("/admin/preview").data)
    response = browser.post("/admin/preview", data={
        "csrf_token": token, "menu": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data")
    return response.status_code, response.data


def test_preview_of_a_broken_edit_lists_its_problems_by_line(
        browser: FlaskClient, menus_file: Path) -> None:
    shipped = (ROOT / "menus.yaml").read_text()
    broken = shipped.replace("goto: cadastro\n", "goto: cadastrp\n", 1)
    with pytest.raises(MenuError) as checked:  # what menus check says of the same text
        parse_menu(broken, "edit.yaml")
    [problem] = checked.value.problems
    assert problem.line > 1 and "cadastrp" in problem.message
    status, page = upload(browser, broken, "edit.yaml")
    assert status == 422
    assert str(escape(str(problem))).encode() in page  # as Jinja escapes it
    assert menus_file.read_text() == shipped  # nothing went live


def test_preview_of_a_good_edit_shows_its_diagram_and_changes(
        browser: FlaskClient, menus_file: Path) -> None:
    shipped = (ROOT / "menus.yaml").read_text()
    option = '      "2": {label: a linha de produtos RM, goto: linha_rm}\n'
    assert option in shipped
    edited = shipped.replace(option, option + '      "5": {label: um aviso, goto: aviso}\n') + (
        '\n  aviso:\n    type: message\n    say: "Aviso de teste."\n')
    status, page = upload(browser, edited)
    assert status == 200, page
    assert b"menus.yaml: OK" in page
    assert b"added: aviso; removed: none; changed: suporte" in page
    assert b"<svg" in page and b">aviso" in page
    assert menus_file.read_text() == shipped


def replayed(page: bytes) -> tuple[str, list[str]]:
    """The preview's replay: its count line, and each call listed as ``menus diff`` lines it."""
    summary = f"{cell(page, 'replayed-count')} calls replayed, {cell(page, 'moved-count')} " \
        "would end elsewhere"
    if b'id="replay-moved"' not in page:
        return summary, []
    rows = table_rows(page, "replay-moved")[1:]
    return summary, [f"{sid_}: {old} -> {new}" + (f" (no longer in the menu: {gone})" if gone
                                                  else "") for sid_, old, new, gone in rows]


@pytest.mark.usefixtures("calls_made")
def test_preview_replays_the_recent_calls_as_menus_diff_does(
        browser: FlaskClient, console: Flask, menus_file: Path, tmp_path: Path) -> None:
    moved = edited_menu(tmp_path / "moved.yaml", move_option("principal", "7", "8"))
    diff = console.test_cli_runner().invoke(args=["menus", "diff", str(menus_file), str(moved)])
    assert diff.exit_code == 0, diff.output
    *lines, summary = diff.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [sid(1), sid(2)]  # the two to cadastro

    status, page = upload(browser, moved.read_text())
    assert status == 200, page
    masked = [f"{call_sid}: {mask_text(ends)}" for call_sid, ends in
              (line.split(": ", 1) for line in lines)]
    assert replayed(page) == (summary, masked)
    assert b"+55*******0007" in page and b"5511900000007" not in page  # masked

    status, page = upload(browser, menus_file.read_text())  # an identical copy
    assert status == 200, page
    assert replayed(page) == (summary.replace(", 2 would", ", 0 would"), [])
    assert menus_file.read_text() == (ROOT / "menus.yaml").read_text()  # nothing went live


def test_preview_refuses_a_file_past_the_menu_limit(browser: FlaskClient) -> None:
    status, page = upload(browser, "#" * (300 * 1024))
    assert status in {413, 422}
    if status == 422:
        assert b"larger than 256 KiB" in page


def test_the_rollup_migration_matches_the_models(database_url: str) -> None:
    assert schema_differences(database_url, {"rolled_days", "call_hours", "transfer_hours",
                                             "node_hours", "login_hours"}) == []


@pytest.mark.usefixtures("calls_made")
def test_admins_rollup_counts_the_finished_days(console: Flask, clock: Clock) -> None:
    runner = console.test_cli_runner()
    assert "nothing to roll up" in runner.invoke(args=["admins", "rollup"]).output
    clock.moment += timedelta(days=1, hours=12)
    result = runner.invoke(args=["admins", "rollup"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 day(s) rolled up, 2026-12-01 to 2026-12-01")


def test_long_periods_are_charted_by_week() -> None:
    from datetime import date

    from admin.pages import bucketed

    days = [(date(2026, 1, 1) + timedelta(days=n), 1) for n in range(100)]
    assert bucketed(days[:62]) == ("day", days[:62])
    unit, weeks = bucketed(days)
    assert unit == "week"
    assert weeks[0] == (date(2025, 12, 29), 4)  # Thursday 1 January to Sunday 4 January
    assert all(start.weekday() == 0 for start, _ in weeks)
    assert sum(n for _, n in weeks) == 100


def test_a_year_overview_renders(browser: FlaskClient) -> None:
    page = browser.get("/admin/?from=2025-12-02&to=2026-12-01")
    assert page.status_code == 200
    assert len(table_rows(page.data, "calls-per-day")) == 366  # header and 365 days


def test_calls_alike_are_counted_in_one_group(console: Flask, clock: Clock) -> None:
    """A recording's URL, a ticket's number or the number dialled do not split the groups the
    database counts."""
    from admin.rollups import call_groups

    start = clock().replace(minute=5)
    records = [("recado", "voicemail", "recado:https://api.twilio.com/Recordings/RE1"),
               ("recado", "voicemail", "recado:https://api.twilio.com/Recordings/RE2"),
               ("consulta_chamado", "ticket_accepted", "12345678"),
               ("consulta_chamado", "ticket_accepted", "23456789"),
               ("cadastro", "transferred", "cadastro:+5511900000007"),
               ("cadastro", "transferred", "cadastro:+5511900000090")]
    with console.extensions["database"].transaction() as session:
        for n, (node, outcome, detail) in enumerate(records):
            session.add(Call(call_sid=sid(900 + n), started_at=start + timedelta(minutes=n),
                             path=f"principal,{node}", last_node=node, outcome=outcome,
                             outcome_detail=detail, steps=1))
    with console.extensions["database"].transaction() as session:
        groups = list(call_groups(session, start, start + timedelta(hours=1)))
    assert sorted((row[3], row[4], row[6]) for row in groups) == [
        ("ticket_accepted", "", 2), ("transferred", "cadastro", 2), ("voicemail", "recado", 2)]


def test_the_overview_shows_the_survey_scores_of_the_period(
    console: Flask, browser: FlaskClient, clock: Clock
) -> None:
    now = clock()
    with console.extensions["database"].transaction() as session:
        session.add_all([
            SurveyAnswer(call_sid="CA-s1", at=now, score=5, team="educacional"),
            SurveyAnswer(call_sid="CA-s2", at=now, score=4, team="educacional"),
            SurveyAnswer(call_sid="CA-s3", at=now, score=2, team="nfe"),
            # Outside the default period (the last week): not counted.
            SurveyAnswer(call_sid="CA-s4", at=now - timedelta(days=30), score=1, team="nfe"),
        ])
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert table_rows(page.data, "surveys") == [
        ["team (node)", "2", "4", "5", "answers", "average"],
        ["educacional", "0", "1", "1", "2", "4,5"],
        ["nfe", "1", "0", "0", "1", "2,0"],
    ]
    assert b'alt="Satisfaction scores by team"' in page.data


def test_the_overview_says_when_no_survey_was_answered(browser: FlaskClient) -> None:
    page = browser.get("/admin/")
    assert b"No survey answers in this period." in page.data


def test_the_overview_shows_its_survey_section_once_under_its_own_title(
    browser: FlaskClient,
) -> None:
    page = browser.get("/admin/")
    title = re.search(rb"<title>(.*?)</title>", page.data, re.S)
    assert title and title.group(1) == "Overview · 4003-0015".encode()
    assert page.data.count(b"<h2>Satisfaction survey</h2>") == 1
