"""Every metric the server exports, in one place (names and labels are the dashboards' contract).

Labels stay bounded: steps are the app's webhook endpoints, teams the menu's transfer nodes,
outcomes and results short fixed lists. Nothing about a caller (number, CPF, keys) is a label.

Under gunicorn each worker writes its values to its own file in ``PROMETHEUS_MULTIPROC_DIR``
(``telemetry.multiprocess``) and ``/metrics`` sums them; elsewhere (tests, ``flask`` commands)
the values live in the process.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds. A menu step takes well under a millisecond in the app; a login's bcrypt check about
# 0.25 s at cost 12; the provider gives up after about 15 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0)

WEBHOOKS = Counter(
    "ivr_webhooks", "Provider webhooks answered, by step (the app's endpoint) and outcome: "
    "answered, refused (bad signature, 403), failed (the apology of the error boundary), "
    "rejected (other 4xx).", ["step", "outcome"])
WEBHOOK_SECONDS = Histogram(
    "ivr_webhook_seconds", "Time the app took to answer a webhook, by step.", ["step"],
    buckets=LATENCY_BUCKETS)

# How a transfer to people went: the provider's dial result, or closed (outside hours, no
# transfer attempted).
TRANSFER_OUTCOMES = frozenset({"answered", "busy", "no_answer", "failed", "canceled", "closed"})
TRANSFERS = Counter(
    "ivr_transfers", "Transfers to people by team (the menu's transfer node, or specialist) and "
    "outcome: answered, busy, no_answer, failed, canceled, closed, unknown.", ["team", "outcome"])

LOGINS = Counter(
    "ivr_logins", "Phone logins checked, by result (ok, invalid_cpf, unknown_cpf, no_password, "
    "bad_password, bad_password_locks, locked, call_limit).", ["result"])
LOGIN_FAILURES = Counter("ivr_login_failures", "Phone logins refused, whatever the reason.")
LOCKOUTS = Counter("ivr_login_lockouts", "Contacts locked by their 5th failure in a row.")

MENU_LOADED = Gauge(
    "ivr_menu_loaded", "1 for the menu version a worker serves (the highest of the workers).",
    ["version"], multiprocess_mode="livemax")
CALL_RECORDS_QUEUED = Gauge(
    "ivr_call_record_steps_queued", "Call-record steps waiting to be written (the recorder's "
    "backlog), summed over live workers.", multiprocess_mode="livesum")
CALL_RECORDS_DROPPED = Counter(
    "ivr_call_record_steps_dropped", "Call-record steps dropped because the database refused "
    "their batch.")


def transfer_outcome(dial_status: str | None) -> str:
    """The provider's ``DialCallStatus`` as an outcome label."""
    status = (dial_status or "").strip().lower().replace("-", "_")
    if status == "completed":
        return "answered"
    return status if status in TRANSFER_OUTCOMES else "unknown"


def count_transfer(team: str, outcome: str) -> None:
    TRANSFERS.labels(team, outcome).inc()


def count_login(result: str) -> None:
    LOGINS.labels(result).inc()
    if result != "ok":
        LOGIN_FAILURES.inc()
    if result == "bad_password_locks":
        LOCKOUTS.inc()


def menu_loaded(version: str, replaced: str | None = None) -> None:
    if replaced is not None and replaced != version:
        MENU_LOADED.labels(replaced).set(0)
    MENU_LOADED.labels(version).set(1)
