"""Nothing under /admin/ answers a visitor without a session but the login page; every form
wants its CSRF token; a forged cookie is nobody; the provider's webhooks never see a cookie."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from admin.setup import AdminSessionInterface
from tests.conftest import SignedClient, call_form
from tests.conftest_admin import (  # noqa: F401 - fixtures
    ADMIN,
    PASSWORD,
    browser_fixture,
    console_fixture,
    csrf_token,
)


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every console route, with sample values for its arguments."""
    samples = {"rest": "anything/else", "name": "principal"}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.login":
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<path:{argument}>", samples[argument])
            url = url.replace(f"<{argument}>", samples[argument])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_console_page_sends_a_visitor_to_the_login_page(console: Flask) -> None:
    urls = admin_urls(console)
    endpoints = {rule.endpoint for rule in console.url_map.iter_rules()
                 if rule.rule.startswith("/admin")}
    assert {"admin.dashboard", "admin.funnel", "admin.menu", "admin.node", "admin.calls",
            "admin.preview", "admin.logout", "admin.unknown"} <= endpoints
    client = console.test_client()
    for method, url in urls:
        response = client.open(url, method=method, data={"x": "1"})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"] == "/admin/login", (method, url)
        assert b"<table" not in response.data and b"svg" not in response.data


def test_the_login_page_is_all_a_visitor_sees(console: Flask) -> None:
    page = console.test_client().get("/admin/login")
    assert page.status_code == 200
    assert b'name="password"' in page.data
    assert b"Log out" not in page.data and b"Recent calls" not in page.data
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none'


def test_login_without_its_csrf_token_is_refused_and_not_counted(console: Flask) -> None:
    client = console.test_client()
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": ADMIN, "password": PASSWORD})
    assert response.status_code == 400
    assert b"form expired" in response.data
    assert client.get("/admin/").status_code == 302


def test_a_token_from_another_session_is_refused(console: Flask) -> None:
    stranger = console.test_client()
    token = csrf_token(stranger.get("/admin/login").data)
    victim = console.test_client()
    victim.get("/admin/login")
    response = victim.post("/admin/login", data={"csrf_token": token, "username": ADMIN,
                                                "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/admin/logout", "/admin/preview"])
def test_forms_of_a_logged_in_admin_want_the_token(browser: FlaskClient, path: str) -> None:
    response = browser.post(path, data={"menu": "x"})
    assert response.status_code == 400
    assert browser.get("/admin/").status_code == 200  # still logged in: the logout did not run


def forged_cookie(secret: str, admin_id: int = 1) -> str:
    interface = AdminSessionInterface()
    serializer = URLSafeTimedSerializer(
        secret, salt=interface.salt, serializer=interface.serializer,
        signer_kwargs={"key_derivation": interface.key_derivation,
                       "digest_method": interface.digest_method})
    return serializer.dumps({"admin_id": admin_id, "key": "0" * 24})


def test_a_forged_or_tampered_cookie_is_nobody(console: Flask, browser: FlaskClient) -> None:
    client = console.test_client()
    client.set_cookie("ivr_admin", forged_cookie("not the server's key"), path="/admin")
    assert client.get("/admin/").status_code == 302

    real = browser.get_cookie("ivr_admin", path="/admin")
    assert real is not None
    payload, _, signature = real.value.rpartition(".")
    client.set_cookie("ivr_admin", payload + "." + signature[::-1], path="/admin")
    assert client.get("/admin/").status_code == 302

    # Even signed with the right key, a session needs the account's current session key.
    client.set_cookie("ivr_admin", forged_cookie(console.config["SECRET_KEY"]), path="/admin")
    assert client.get("/admin/").status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_flask_default_signing_is_not_accepted(console: Flask) -> None:
    """The console signs with SHA-256: a cookie made the default way (SHA-1) is refused."""
    default = SecureCookieSessionInterface().get_signing_serializer(console)
    assert default is not None
    client = console.test_client()
    client.set_cookie("ivr_admin", default.dumps({"admin_id": 1}), path="/admin")
    assert client.get("/admin/").status_code == 302


def test_webhooks_never_get_a_session_cookie(console: Flask, browser: FlaskClient) -> None:
    signed = SignedClient(console.test_client())
    response = signed.post("/voice", call_form())
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers  # no session was opened


def test_nothing_below_the_console_imports_it() -> None:
    from tests.test_layers import ROOT, imports_of

    below = [path for package in ("ivr", "auth", "tickets", "database", "importer")
             for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(below) > 50
    assert [hit for path in below for hit in imports_of(path, {"admin"})] == []
