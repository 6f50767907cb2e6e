"""Admin accounts: ``admins create``, the console's login, its lockout and its session."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import bcrypt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from admin.accounts import MAX_FAILURES
from admin.models import AdminAccount, AdminLogin
from admin.setup import CONSOLE_NEEDS_KEY
from app import create_app, shutdown
from config import ConfigError
from tests.conftest import AUTH_TOKEN, ROOT, Clock
from tests.conftest_admin import (  # noqa: F401 - fixtures
    ADMIN,
    PASSWORD,
    SECRET,
    add_admin,
    browser_fixture,
    console_fixture,
    csrf_token,
    log_in,
)
from tests.server import free_port


def accounts(app: Flask) -> list[AdminAccount]:
    with app.extensions["database"].transaction() as session:
        return list(session.scalars(select(AdminAccount).order_by(AdminAccount.id)))


def test_admins_create_from_stdin_hashes_with_bcrypt(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["admins", "create", "Maria.Souza", "--password-stdin"],
        input="a long enough passphrase\n")

    assert result.exit_code == 0, result.output
    assert "admin 'maria.souza' created" in result.stdout
    assert "SECRET_KEY" in result.stderr  # the server will need it from now on
    [account] = accounts(app)
    assert account.username == "maria.souza"
    assert bcrypt.checkpw(b"a long enough passphrase", account.password_hash.encode())
    assert "passphrase" not in result.output


class Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_admins_create_on_a_terminal_asks_twice_and_again_for_a_weak_password(
        app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["admins", "create", "joao"],
        input=Terminal(b"short\nanother good passphrase\nanother good passphrase\n"))

    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert "Repeat for confirmation" in result.output
    [account] = accounts(app)
    assert bcrypt.checkpw(b"another good passphrase", account.password_hash.encode())


@pytest.mark.parametrize(("username", "password", "problem"), [
    ("ana", "short", "at least 12 characters"),
    ("ana", "ana is my password", "must not contain the username"),
    ("ana", "aaaaaaaaaaaaaaaaaaaa", "repeat so few characters"),
    ("ana", "x" * 40 + "é" * 20, "72 bytes"),
    ("Ana Maria", "a long enough passphrase", "a username is"),
])
def test_admins_create_refuses_bad_names_and_passwords(app: Flask, username: str,
                                                       password: str, problem: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["admins", "create", username, "--password-stdin"], input=password + "\n")

    assert result.exit_code == 1
    assert problem in result.stderr
    assert accounts(app) == []


def test_admins_create_refuses_a_name_taken(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["admins", "create", "ana", "--password-stdin"],
                  input="a long enough passphrase\n")
    again = runner.invoke(args=["admins", "create", "ANA", "--password-stdin"],
                          input="another good passphrase\n")

    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert len(accounts(app)) == 1


def test_the_app_refuses_to_start_without_secret_key_once_an_admin_exists(
        database_url: str, menus_file: Path, clock: Clock, app: Flask) -> None:
    settings = {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "MENUS_FILE": menus_file}
    shutdown(create_app(settings))  # no admin yet: no key needed
    add_admin(app.extensions["database"], clock)

    with pytest.raises(ConfigError, match="SECRET_KEY: required once an admin account exists"):
        create_app(settings)
    shutdown(create_app({**settings, "SECRET_KEY": SECRET}))


def test_gunicorn_refuses_in_one_line_before_any_worker_starts(
        database_url: str, clock: Clock, app: Flask) -> None:
    add_admin(app.extensions["database"], clock)
    env = {key: value for key, value in os.environ.items()
           if key not in {"SECRET_KEY", "PUBLIC_BASE_URL", "GUNICORN_CMD_ARGS"}}
    env.update(DATABASE_URL=database_url, TWILIO_AUTH_TOKEN=AUTH_TOKEN, GUNICORN_WORKERS="1",
               GUNICORN_BIND=f"127.0.0.1:{free_port()}", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert done.stderr.splitlines()[-1] == f"Error: {CONSOLE_NEEDS_KEY}"
    assert "Traceback" not in output and "Booting worker" not in output


def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import ServerConfig

    monkeypatch.setenv("SECRET_KEY", "too-short")
    with pytest.raises(ConfigError, match="SECRET_KEY: too short") as refused:
        ServerConfig.from_env()
    assert "too-short" not in str(refused.value)


def test_login_sets_a_signed_httponly_samesite_cookie_for_admin_only(console: Flask) -> None:
    client = console.test_client()
    token = csrf_token(client.get("/admin/login").data)
    response = client.post("/admin/login", data={
        "csrf_token": token, "username": ADMIN, "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ivr_admin=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http here: PUBLIC_BASE_URL is not https
    assert client.get("/admin/").status_code == 200


def test_the_cookie_is_secure_behind_https(database_url: str, menus_file: Path,
                                           clock: Clock) -> None:
    application = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": "https://ivr.example.com",
    })
    try:
        add_admin(application.extensions["database"], clock)
        client = application.test_client()
        https = {"base_url": "https://ivr.example.com",
                 "headers": {"Referer": "https://ivr.example.com/admin/login"}}
        token = csrf_token(client.get("/admin/login", **https).data)
        response = client.post("/admin/login", data={
            "csrf_token": token, "username": ADMIN, "password": PASSWORD}, **https)
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        shutdown(application)


def test_a_wrong_password_is_refused_and_recorded(console: Flask) -> None:
    client = console.test_client()
    assert log_in(client, password="not the password") == 401
    assert log_in(client, username="nobody") == 401
    assert client.get("/admin/").status_code == 302
    with console.extensions["database"].transaction() as session:
        trail = [(row.username, row.result) for row in session.scalars(select(AdminLogin))]
    assert trail == [(ADMIN, "refused"), ("nobody", "refused")]
    assert accounts(console)[0].failed_logins == 1


def test_ten_failures_lock_the_account_even_for_the_right_password(
        console: Flask, clock: Clock) -> None:
    client = console.test_client()
    for _ in range(MAX_FAILURES - 1):
        assert log_in(client, password="not the password") == 401
    assert accounts(console)[0].locked_until is None
    assert log_in(client, password="not the password") == 401
    locked = accounts(console)[0]
    assert locked.locked_until is not None and locked.locked_until > clock()

    assert log_in(client) == 401  # the right password, refused while locked
    assert client.get("/admin/").status_code == 302

    clock.moment += timedelta(minutes=16)
    assert log_in(client) == 302  # the lock ran out
    assert accounts(console)[0].failed_logins == 0


def test_admins_unlock_lets_a_locked_out_admin_in_at_once(console: Flask) -> None:
    client = console.test_client()
    for _ in range(MAX_FAILURES):
        assert log_in(client, password="not the password") == 401
    assert log_in(client) == 401  # locked for 15 minutes
    runner = console.test_cli_runner()

    result = runner.invoke(args=["admins", "unlock", " Ana "])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"admin {ADMIN!r} unlocked\n"
    [account] = accounts(console)
    assert (account.locked_until, account.failed_logins) == (None, 0)
    assert log_in(client) == 302  # the right password works again, no wait

    again = runner.invoke(args=["admins", "unlock", ADMIN])
    assert again.exit_code == 0 and "was not locked" in again.stdout
    unknown = runner.invoke(args=["admins", "unlock", "nobody"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "no admin is named 'nobody'\n"


def test_the_lock_is_in_the_database_for_every_instance(
        console: Flask, database_url: str, menus_file: Path, clock: Clock) -> None:
    other = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "CLOCK": clock, "SECRET_KEY": SECRET,
    })
    try:
        for n in range(MAX_FAILURES):
            instance = console if n % 2 else other  # failures spread over two instances
            assert log_in(instance.test_client(), password="wrong password!") == 401
        assert log_in(console.test_client()) == 401
        assert log_in(other.test_client()) == 401
    finally:
        shutdown(other)


def test_logout_ends_the_session_and_a_copy_of_its_cookie(browser: FlaskClient) -> None:
    page = browser.get("/admin/")
    cookie = browser.get_cookie("ivr_admin", path="/admin")
    assert cookie is not None
    copied = cookie.value

    response = browser.post("/admin/logout", data={"csrf_token": csrf_token(page.data)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert browser.get("/admin/").status_code == 302

    browser.set_cookie("ivr_admin", copied, path="/admin")  # replayed after the logout
    assert browser.get("/admin/").status_code == 302


def test_the_migration_builds_the_tables_the_models_describe(database_url: str) -> None:
    from tests.schema import schema_differences

    assert schema_differences(database_url, {"admin_accounts", "admin_logins"}) == []
