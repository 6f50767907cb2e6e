"""Counts and times every provider webhook (``/voice...``) around the app, by step and outcome.

A WSGI wrapper rather than Flask hooks: the time includes Flask's own request set-up, and the
views need not know they are measured. The one thing only a view knows, that the error boundary
answered with its apology, it says through ``mark_failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from time import perf_counter
from typing import Any

from prometheus_client.metrics import Counter, Histogram

from telemetry.logs import STEP_KEY
from telemetry.metrics import WEBHOOK_SECONDS, WEBHOOKS

FAILED = "ivr.webhook_failed"  # environ key set by the error boundary
UNKNOWN_STEP = "unknown"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def mark_failed(environ: dict[str, Any]) -> None:
    """This webhook was answered with the apology of the error boundary."""
    environ[FAILED] = True


def outcome_of(status: int, failed: bool) -> str:
    if status == 403:
        return "refused"
    if status >= 500 or failed:
        return "failed"
    return "answered" if status < 400 else "rejected"


class WebhookMetrics:
    """Wraps the app: ``steps`` maps a webhook's path to its step (the endpoint's name), so a
    label never takes a value a client made up."""

    def __init__(self, app: WsgiApp, steps: Mapping[str, str]) -> None:
        self.app = app
        self.steps = dict(steps)
        # Each labelled child looked up once: ``labels()`` costs a lock and a tuple each time.
        self._counts: dict[tuple[str, str], Counter] = {}
        self._times: dict[str, Histogram] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/voice"):
            return self.app(environ, start_response)
        started = perf_counter()
        step = environ[STEP_KEY] = self.steps.get(path, UNKNOWN_STEP)
        seen: list[str] = []

        def noting_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        body = self.app(environ, noting_start_response)
        elapsed = perf_counter() - started
        status = int(seen[0][:3]) if seen else 500
        self.observe(step, outcome_of(status, environ.get(FAILED, False)), elapsed)
        return body

    def observe(self, step: str, outcome: str, seconds: float) -> None:
        count = self._counts.get((step, outcome))
        if count is None:
            count = self._counts[(step, outcome)] = WEBHOOKS.labels(step, outcome)
        timer = self._times.get(step)
        if timer is None:
            timer = self._times[step] = WEBHOOK_SECONDS.labels(step)
        count.inc()
        timer.observe(seconds)
