"""The app's own call recorder, writer thread included: a step is written with nobody calling
``flush()`` (``tests/test_call_records.py`` reads records written by ``flush()`` instead)."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import select

from ivr.calls.models import Call, CallStep
from tests.conftest import SignedClient, call_form
from tests.twiml import Doc

SID = "CA" + "f" * 32


def test_the_writer_thread_writes_steps_on_its_own(app: Flask, signed: SignedClient) -> None:
    main = Doc.parse(signed.post("/voice", call_form(SID)).data)
    response = signed.post(main.next_url(), call_form(SID, Digits="7"))
    assert Doc.parse(response.data).dial_target() == "+5511900000007"
    response.close()  # what the server does once the body is sent
    deadline = time.monotonic() + 3
    row = None
    while time.monotonic() < deadline:
        with app.extensions["database"].transaction() as session:
            row = session.get(Call, SID)
            if row is not None and row.outcome == "transferred" and row.from_number:
                break
        time.sleep(0.05)
    assert row is not None
    assert (row.path, row.outcome, row.from_number) == ("principal,cadastro", "transferred",
                                                        "+5511987654321")


def test_close_writes_what_the_writer_thread_holds(app: Flask, signed: SignedClient) -> None:
    """The thread takes a step off the queue and waits for more: a worker leaving (close())
    must write that step too, not only what is still queued."""
    recorder = app.extensions["call_recorder"]
    signed.post("/voice", call_form(SID))
    deadline = time.monotonic() + 3
    while not recorder._queue.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder._queue.empty()  # in the thread's hands, waiting for the flush window
    recorder.close()
    with app.extensions["database"].transaction() as session:
        assert [step.step for step in session.scalars(select(CallStep))] == ["ivr.incoming"]
