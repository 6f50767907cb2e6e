"""Whether a call is logged in: the question the menu engine asks before a node that needs a
login (``engine.CallContext.is_logged_in``). Logins belong to a package above ivr, so the app
registers the answer (``register``) and the ivr views look it up (``is_logged_in``).
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask, current_app, g

from ivr.engine import CallContext

_KEY = "ivr.login_check"


class LoginCheck(Protocol):
    def __call__(self, call_sid: str) -> bool:
        """True when someone is logged in on call ``call_sid``, in the request being served."""
        ...


def register(app: Flask, check: LoginCheck) -> None:
    app.extensions[_KEY] = check


def is_logged_in(call_sid: str) -> bool:
    check: LoginCheck | None = current_app.extensions.get(_KEY)
    if check is None:
        raise RuntimeError("no login check registered: the app registers one (ivr.logins.register)")
    return check(call_sid)


def call_context() -> CallContext:
    """The engine's context for the call of the request being served: the login question is
    asked only when a node needs it."""
    call_sid: str = g.get("call_sid", "")

    def logged_in() -> bool:
        return bool(call_sid) and is_logged_in(call_sid)

    return CallContext(is_logged_in=logged_in)
