"""What auth does for the call handling, which cannot import it: answers whether a call is
logged in (for the menu engine), ends the call's login when the call ends, and reports the
line's refused logins on ``/healthz``. ``install`` wires
both into an app; ``app.register_blueprints`` calls it.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from auth import pending
from auth.line_failures import line_count
from auth.service import current_login, end_call
from database.flask_ext import request_session
from ivr import logins, signals


def install(app: Flask) -> None:
    logins.register(app, is_logged_in)
    signals.call_ended.connect(on_call_ended, sender=app)
    signals.health_report.connect(report_logins, sender=app)


def is_logged_in(call_sid: str) -> bool:
    return current_login(request_session(), call_sid) is not None


def on_call_ended(app: Flask, *, session: Session, call_sid: str, **_: object) -> None:
    """The login and any CPF still pending go with the call, in the status callback's
    transaction (its view commits)."""
    end_call(session, call_sid)
    pending.forget(session, call_sid)


def report_logins(app: Flask, **_: object) -> dict[str, object]:
    """Password checks on the whole line in the last ten minutes and how many were refused,
    for an alert on password spraying: ``line_slowed`` while every login is being slowed."""
    now: datetime = app.config["CLOCK"]()
    try:
        with app.extensions["database"].transaction() as session:
            count = line_count(session, now)
    except SQLAlchemyError:
        return {"logins": "unavailable"}
    return {"logins": {"refused_last_10_minutes": count.failures,
                       "checked_last_10_minutes": count.checks,
                       "line_slowed": count.slowed}}
