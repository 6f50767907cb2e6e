"""Binds a ``Database`` to the Flask app and gives each request one session, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from database.session import Database

_KEY = "database"


def init_app(app: Flask, database: Database) -> None:
    app.extensions[_KEY] = database
    app.teardown_appcontext(_close_request_session)


def get_db() -> Database:
    return current_app.extensions[_KEY]


def request_session() -> Session:
    """The request's session; the view (or error handler) decides commit or rollback."""
    session = g.get("_db_session")
    if session is None:
        session = get_db().session()
        g._db_session = session
    return session


def _close_request_session(error: BaseException | None) -> None:
    session: Session | None = g.pop("_db_session", None)
    if session is not None:
        if error is not None:
            session.rollback()
        session.close()
