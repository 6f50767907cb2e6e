"""``flask call``: a phone in the terminal. In-process (the app's own factory, signed webhooks
through Flask's test client) on a real database, and over HTTP against gunicorn; the transcript
prints each transfer as ``DIAL <target>``, and the exit status says whether the application
answered an error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from ivr.calls.models import CallStep
from tests.conftest import AUTH_TOKEN, MARIA_CPF, MARIA_PASSWORD, ROOT
from tests.e2e import live_server
from tests.menu_edits import edited_menu, move_option, set_field

IN_HOURS = "2026-12-01T10:00:00-03:00"  # a Tuesday
SATURDAY = "2026-12-05T10:00:00-03:00"
LOGIN = f"{MARIA_CPF}#,{MARIA_PASSWORD}#"

Phone = Callable[..., Result]


@pytest.fixture
def phone(app: Flask, database_url: str, demo_data: None) -> Phone:
    """``flask call ARGS`` on the test database (the command builds its own app from the
    environment, as it does for an admin)."""
    runner = app.test_cli_runner()

    def call(*args: str, keyboard: str | None = None) -> Result:
        return runner.invoke(args=["call", *args], input=keyboard,
                             env={"DATABASE_URL": database_url, "BCRYPT_ROUNDS": "10"})

    return call


def dials(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("DIAL ")]


def test_option_7_dials_the_cadastro_team(phone: Phone) -> None:
    result = phone("--keys", "7", "--at", IN_HOURS)
    assert result.exit_code == 0, result.output
    assert "Para ativação de cadastro" in result.stdout  # the main menu was heard
    assert dials(result) == ["DIAL +5511900000007"]


@pytest.mark.parametrize(("key", "team"), [("1", "+5511900000001"), ("2", "+5511900000002"),
                                           ("3", "+5511900000003")])
def test_each_team_after_the_demo_login(phone: Phone, key: str, team: str) -> None:
    result = phone("--keys", f"2,2,3,9,9,{key},{LOGIN}", "--at", IN_HOURS)
    assert result.exit_code == 0, result.output
    assert "Obrigado, Maria." in result.stdout
    assert dials(result) == [f"DIAL {team}"]


def test_outside_hours_nobody_is_dialled(phone: Phone) -> None:
    result = phone("--keys", "7", "--at", SATURDAY)
    assert result.exit_code == 0, result.output
    assert "fora do horário de atendimento" in result.stdout
    assert dials(result) == []


def test_an_edited_copy_of_the_menu_before_it_goes_live(phone: Phone, tmp_path: Path) -> None:
    def edit(data: Any) -> None:
        move_option("principal", "7", "8")(data)
        set_field("cadastro", "to", "+5511900000077")(data)

    edited = edited_menu(tmp_path / "edited.yaml", edit)
    moved = phone("--keys", "8", "--at", IN_HOURS, "--menus", str(edited))
    assert dials(moved) == ["DIAL +5511900000077"]
    served = phone("--keys", "8", "--at", IN_HOURS)  # the served menu is untouched
    assert dials(served) == [] and "Opção inválida" in served.stdout


def test_a_busy_team_leads_to_the_voicemail(phone: Phone) -> None:
    result = phone("--keys", "7,#", "--at", IN_HOURS, "--dial", "busy")
    assert result.exit_code == 0, result.output
    assert dials(result) == ["DIAL +5511900000007"]
    assert "Deixe seu nome" in result.stdout and "Recebemos sua mensagem" in result.stdout


def test_silence_and_a_ticket_number_keyed_at_the_main_menu(phone: Phone) -> None:
    result = phone("--keys", f"T,12345678,{LOGIN},1", "--at", IN_HOURS)
    assert result.exit_code == 0, result.output
    assert "Não recebemos nenhuma opção" in result.stdout
    assert "com solução proposta" in result.stdout
    assert dials(result) == ["DIAL +5511999990001"]  # the ticket's specialist


def test_the_call_is_recorded_without_the_secret_digits(phone: Phone, app: Flask) -> None:
    assert phone("--keys", f"2,2,3,9,9,1,{LOGIN}", "--at", IN_HOURS).exit_code == 0
    with app.extensions["database"].transaction() as session:
        steps = session.scalars(select(CallStep).order_by(CallStep.seq)).all()
    assert [step.step for step in steps][:3] == ["ivr.incoming", "ivr.step", "ivr.step"]
    assert [(s.step, s.keys, s.key_count, s.result) for s in steps if s.step.startswith("auth")] \
        == [("auth.login", None, 0, None), ("auth.cpf", None, 11, None),
            ("auth.password", None, 6, "login_ok")]


def test_an_apology_exits_1(phone: Phone, tmp_path: Path, app: Flask) -> None:
    """The database is not migrated: the login step fails and the caller hears the apology."""
    runner = app.test_cli_runner()
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = runner.invoke(args=["call", "--keys", f"2,2,3,9,9,1,{LOGIN}", "--at", IN_HOURS],
                           env={"DATABASE_URL": empty})
    assert "Desculpe, tivemos um problema." in result.stdout
    assert result.exit_code == 1
    good = phone("--keys", "7", "--at", IN_HOURS)
    assert good.exit_code == 0


def test_a_menu_with_mistakes_is_refused_with_its_lines(phone: Phone, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((ROOT / "menus.yaml").read_text().replace("goto: consulta_chamado",
                                                                "goto: nowhere"))
    result = phone("--keys", "7", "--menus", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:" in result.output and "nowhere" in result.output


def test_without_keys_it_asks_for_them(phone: Phone) -> None:
    result = phone("--at", IN_HOURS, keyboard="\n2\n0\n7\nbusy\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Para ativação de cadastro") == 2  # again after 0
    assert "Suporte técnico." in result.stdout and "Não recebemos nenhuma opção" in result.stdout
    assert dials(result) == ["DIAL +5511900000007"]
    assert "Deixe seu nome" in result.stdout  # busy: the voicemail, then the keyboard ran out


def test_a_bad_time_is_refused(phone: Phone) -> None:
    result = phone("--keys", "7", "--at", "2026-12-01T10:00:00")
    assert result.exit_code == 2
    assert "UTC offset" in result.output


def test_over_http_against_gunicorn(tmp_path: Path) -> None:
    with live_server(tmp_path) as live:
        env = {**os.environ, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "DATABASE_URL": live.database.url}
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "call", "--url", live.server.base,
             "--keys", f"2,2,3,9,9,2,{LOGIN}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "Obrigado, Maria." in done.stdout
        assert [line for line in done.stdout.splitlines() if line.startswith("DIAL ")] == \
            ["DIAL +5511900000002"]
        wrong = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "call", "--url", live.server.base,
             "--keys", "7"],
            cwd=ROOT, env={**env, "TWILIO_AUTH_TOKEN": "not-the-servers-token"},
            capture_output=True, text=True, timeout=60, check=False)
        assert wrong.returncode == 1
        assert "HTTP 403" in wrong.stdout
