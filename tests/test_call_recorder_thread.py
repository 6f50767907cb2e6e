"""The app's own call recorder, writer thread included: a step is written with nobody calling
``flush()`` (``tests/test_call_records.py`` reads records written by ``flush()`` instead)."""

from __future__ import annotations

import time

from flask import Flask

from ivr.calls.models import Call
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
