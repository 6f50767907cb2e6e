"""What the call handling announces to the packages above it, which subscribe when the app
wires them (``app.register_blueprints``): ivr never imports them.

``call_ended``: the provider's status callback reported the call's final status. Sent with the
app as sender, inside the callback's transaction, with ``session`` (the request's; receivers
write through it and never commit), ``call_sid`` and ``status`` (completed, no-answer...).
Receivers run in the request: one that raises rolls back the call record's completion with
everything else; when that is the database's failure, the completion is tried again later
(``ivr.views.status``), otherwise the provider is answered as for any failure. A receiver may
also run outside a request, in the app's context.

``login_checked``: auth checked a phone login. Sent by auth's views with the app as sender and
``result``, the audited reason (``ok``, ``bad_password``, ``bad_password_locks``...); the app
counts it for ``/metrics``. Receivers must not raise.

``health_report``: ``GET /healthz`` asks for what else operations should see. Sent with the app
as sender; each receiver returns a dict merged into the answer, and must not raise (the page
answers when the database does not).
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()

call_ended = _signals.signal("call-ended")
health_report = _signals.signal("health-report")
login_checked = _signals.signal("login-checked")


def health_reports() -> dict[str, object]:
    """What this app's receivers add to ``/healthz``."""
    merged: dict[str, object] = {}
    for _receiver, report in health_report.send(current_app._get_current_object()):  # type: ignore[attr-defined]
        merged.update(report)
    return merged



def announce_login_checked(result: str) -> None:
    login_checked.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                       result=result)
