"""What tickets hears from the call handling, which cannot import it: how a reminder call
ended (``ivr.signals.call_ended``). ``app.register_blueprints`` installs it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from ivr import signals
from tickets.reminders import record_end


def install(app: Flask) -> None:
    signals.call_ended.connect(on_call_ended, sender=app)


def on_call_ended(app: Flask, *, session: Session, call_sid: str, status: str = "",
                  **_: object) -> None:
    """In the status callback's transaction (its view commits)."""
    record_end(session, call_sid, status)
