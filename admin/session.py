"""Who is logged in to the console: the signed session cookie, checked against the account on
every request."""

from __future__ import annotations

from flask import g, session
from sqlalchemy import select

from admin.accounts import session_key
from admin.models import AdminAccount
from database.flask_ext import request_session


def current_admin() -> AdminAccount | None:
    """The account of a valid session; None for no session, a removed account, or a session
    signed before the account's password changed."""
    if "admin" in g:
        admin: AdminAccount | None = g.admin
        return admin
    admin = None
    admin_id, key = session.get("admin_id"), session.get("key")
    if isinstance(admin_id, int) and isinstance(key, str):
        account = request_session().scalar(
            select(AdminAccount).where(AdminAccount.id == admin_id))
        if account is not None and session_key(account) == key:
            admin = account
    g.admin = admin
    return admin


def start(account: AdminAccount) -> None:
    session.clear()  # a new session on login: nothing of a visitor's carries over
    session.permanent = True
    session["admin_id"] = account.id
    session["key"] = session_key(account)
    g.admin = account


def end() -> None:
    session.clear()
    g.admin = None
