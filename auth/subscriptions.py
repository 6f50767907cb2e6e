"""What auth does for the call handling, which cannot import it: answers whether a call is
logged in (for the menu engine), and ends the call's login when the call ends. ``install`` wires
both into an app; ``app.register_blueprints`` calls it.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from auth import pending
from auth.service import current_login, end_call
from database.flask_ext import request_session
from ivr import logins, signals


def install(app: Flask) -> None:
    logins.register(app, is_logged_in)
    signals.call_ended.connect(on_call_ended, sender=app)


def is_logged_in(call_sid: str) -> bool:
    return current_login(request_session(), call_sid) is not None


def on_call_ended(app: Flask, *, session: Session, call_sid: str, **_: object) -> None:
    """The login and any CPF still pending go with the call, in the status callback's
    transaction (its view commits)."""
    end_call(session, call_sid)
    pending.forget(session, call_sid)
