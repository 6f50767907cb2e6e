"""A handful of calls walked through the webhooks, each ending a known way, for the console's
tests (in-process and through gunicorn): what the dashboard must count."""

from __future__ import annotations

from tests.caller import Caller
from tests.conftest import call_form
from tests.twiml import Doc

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


def sid(n: int) -> str:
    return f"CA{n:032x}"


def post(caller: Caller, url: str, call_sid: str, **extra: str) -> Doc:
    answer = caller.post(url, call_form(call_sid, **extra))
    assert answer.status_code == 200, answer.data
    return Doc.parse(answer.data)


def end(caller: Caller, call_sid: str, seconds: int) -> None:
    answer = caller.post("/voice/status", call_form(call_sid, CallStatus="completed",
                                                    CallDuration=str(seconds)))
    assert answer.status_code == 204


def walk(caller: Caller, call_sid: str, keys: list[str | None]) -> Doc:
    doc = post(caller, "/voice", call_sid)
    for key in keys:
        doc = post(caller, doc.next_url(), call_sid, **({} if key is None else {"Digits": key}))
    return doc


def make_calls(caller: Caller, first: int = 1) -> None:
    """Five calls in open hours (``EXPECTED`` says what they come to)."""
    answered = walk(caller, sid(first), ["7"])  # cadastro, answered
    post(caller, answered.next_url(), sid(first), DialCallStatus="completed")
    end(caller, sid(first), 60)

    busy = walk(caller, sid(first + 1), ["7"])  # cadastro busy, then a voice message
    message = post(caller, busy.next_url(), sid(first + 1), DialCallStatus="busy")
    post(caller, message.next_url(), sid(first + 1), RecordingUrl=RECORDING)
    end(caller, sid(first + 1), 90)

    person = walk(caller, sid(first + 2), [None, None, None])  # silent: to a person, answered
    post(caller, person.next_url(), sid(first + 2), DialCallStatus="completed")
    end(caller, sid(first + 2), 40)

    end(caller, sid(first + 3), 5)  # hung up at the main menu

    walk(caller, sid(first + 4), ["2"])  # support menu, then hung up
    end(caller, sid(first + 4), 12)


EXPECTED_CALLS = 5
# The silent caller's transfer counts as its outcome, retries exhausted, not as a team's.
EXPECTED_TRANSFERS = {("cadastro", "answered"): 1, ("cadastro", "busy"): 1}
EXPECTED_FUNNEL = {
    "principal": {"reached": 5, "gave_up": 1, "retries_exhausted": 1},
    "cadastro": {"reached": 2, "gave_up": 0, "retries_exhausted": 0},
    "atendente": {"reached": 1, "gave_up": 0, "retries_exhausted": 0},
    "recado": {"reached": 1, "gave_up": 0, "retries_exhausted": 0},
    "suporte": {"reached": 1, "gave_up": 1, "retries_exhausted": 0},
}
EXPECTED_SELF_SERVED = 0
