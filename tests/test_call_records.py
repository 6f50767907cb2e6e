"""The call record an admin reads: one ``calls`` row per CallSid with who called, when, the path of
nodes walked and how it ended. Written off the hot path; ``flush()`` forces the write."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.actions import Outcome
from ivr.calls.events import CallStarted, CallStepped, Step
from ivr.calls.models import Call
from ivr.calls.recorder import CallRecorder
from ivr.calls.store import upsert_calls, write_steps
from tests.conftest import OPEN_HOURS, Clock, SignedClient, call_form
from tests.database_faults import restart
from tests.twiml import Doc

SID = "CA" + "c" * 32
CALLER = "+5511987654321"
LINE = "+551140030015"
SATURDAY = datetime.fromisoformat("2026-12-05T10:00:00-03:00")


@pytest.fixture
def flush_only_recorder(app: Flask) -> CallRecorder:
    """The app's call recorder without its writer thread: steps wait for ``flush()`` (or a busy
    worker's write after a response), so what a test reads never races a background write.
    ``tests/test_call_recorder_thread.py`` covers the thread."""
    app.extensions["call_recorder"].close()
    recorder = CallRecorder(app.extensions["database"], background=False)
    app.extensions["call_recorder"] = recorder
    return recorder


pytestmark = pytest.mark.usefixtures("flush_only_recorder")


def row_of(app: Flask, sid: str = SID) -> Call:
    app.extensions["call_recorder"].flush()
    with app.extensions["database"].transaction() as session:
        row = session.scalars(select(Call).where(Call.call_sid == sid)).one_or_none()
    assert row is not None, f"no calls row for {sid}"
    return row


def post(signed: SignedClient, url: str, sid: str = SID, **extra: str) -> Doc:
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def walk(signed: SignedClient, keys: list[str | None], sid: str = SID,
         clock: Clock | None = None, every: timedelta = timedelta(seconds=5),
         fields: dict[str, str] | None = None) -> Doc:
    """Calls in, then keys ``keys`` (None: silence); ``fields`` go with every request."""
    fields = fields or {}
    doc = post(signed, "/voice", sid, **fields)
    for key in keys:
        if clock is not None:
            clock.moment += every
        digits = {} if key is None else {"Digits": key}
        doc = post(signed, doc.next_url(), sid, **fields, **digits)
    return doc


def status(signed: SignedClient, sid: str = SID, **extra: str) -> None:
    response = signed.post("/voice/status", call_form(sid, **extra))
    assert response.status_code == 204, response.data
    assert response.data == b""


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def test_a_transferred_call(app: Flask, signed: SignedClient, clock: Clock) -> None:
    start = clock.moment
    doc = walk(signed, ["7"], clock=clock)
    assert doc.dial_target() == "+5511900000007"
    row = row_of(app)
    assert (row.from_number, row.to_number) == (CALLER, LINE)
    assert row.started_at is None  # known from the status callback's duration
    assert row.path == "principal,cadastro"
    assert row.last_node == "cadastro"
    assert row.outcome == "transferred"
    assert row.outcome_detail == "cadastro:+5511900000007"
    assert row.ended_at is None and row.duration_seconds is None
    assert row.steps == 1  # the main menu itself writes nothing
    del start


def test_the_status_callback_ends_the_record(
    app: Flask, signed: SignedClient, clock: Clock
) -> None:
    start = clock.moment
    walk(signed, ["7"], clock=clock)
    clock.moment = start + timedelta(seconds=64)
    status(signed, CallStatus="completed", CallDuration="63")
    row = row_of(app)
    assert row.ended_at == utc(start + timedelta(seconds=64))
    assert row.duration_seconds == 63
    assert row.final_status == "completed"
    assert row.started_at == utc(start + timedelta(seconds=1))  # end minus the duration
    # The outcome the steps recorded survives the status callback.
    assert (row.outcome, row.outcome_detail) == ("transferred", "cadastro:+5511900000007")


def test_a_closed_line(app: Flask, signed: SignedClient, clock: Clock) -> None:
    clock.moment = SATURDAY
    doc = walk(signed, ["7"])
    assert doc.first("Dial") is None
    row = row_of(app)
    assert row.outcome == "closed"
    assert row.outcome_detail == "cadastro"
    assert row.path == "principal,cadastro,fora_do_horario"
    assert row.last_node == "fora_do_horario"


def test_retries_exhausted_names_the_node(app: Flask, signed: SignedClient, clock: Clock) -> None:
    clock.moment = SATURDAY
    doc = walk(signed, ["2", "2", "8", "8", "8"])
    assert doc.verbs[-1] == "Hangup"
    row = row_of(app)
    assert row.outcome == "retries_exhausted"
    assert row.outcome_detail == "linha_rm"
    assert row.path == "principal,suporte,linha_rm"


def test_retries_exhausted_in_hours_then_transferred_keeps_the_reason(
    app: Flask, signed: SignedClient
) -> None:
    doc = walk(signed, [None, None, None])
    assert doc.dial_target() == "+5511900000000"
    row = row_of(app)
    assert row.outcome == "retries_exhausted"
    assert row.outcome_detail == "principal"


def test_a_caller_who_hangs_up_mid_menu(app: Flask, signed: SignedClient, clock: Clock) -> None:
    start = clock.moment
    walk(signed, ["2", "2", "3"], clock=clock)
    clock.moment = start + timedelta(seconds=30)
    status(signed, CallStatus="completed", CallDuration="29")
    row = row_of(app)
    assert row.outcome == "hung_up"
    assert row.outcome_detail == "educacao"
    assert row.path == "principal,suporte,linha_rm,educacao"
    assert row.duration_seconds == 29
    assert row.ended_at == utc(start + timedelta(seconds=30))


def test_a_status_callback_without_a_duration(app: Flask, signed: SignedClient) -> None:
    walk(signed, ["2"])
    status(signed, CallStatus="no-answer")
    row = row_of(app)
    assert row.duration_seconds is None
    assert row.final_status == "no-answer"
    assert row.ended_at is not None


def test_a_status_callback_for_a_call_never_seen(app: Flask, signed: SignedClient,
                                                 clock: Clock) -> None:
    status(signed, CallStatus="busy", CallDuration="0")
    row = row_of(app)
    assert row.outcome == "hung_up"
    assert (row.from_number, row.to_number) == (CALLER, LINE)
    assert row.started_at == utc(clock.moment)
    assert row.path == "principal"  # where every call starts


def test_replayed_status_callbacks_do_not_double_anything(
    app: Flask, signed: SignedClient
) -> None:
    walk(signed, ["7"])
    status(signed, CallStatus="completed", CallDuration="10")
    first = row_of(app)
    status(signed, CallStatus="completed", CallDuration="10")
    second = row_of(app)
    assert (second.steps, second.path, second.outcome, second.duration_seconds) == \
        (first.steps, first.path, first.outcome, first.duration_seconds)


def test_a_login_on_the_way_is_part_of_the_path(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    from tests.conftest import MARIA_CPF, MARIA_PASSWORD

    doc = walk(signed, ["2", "2", "3", "9", "9", "2"])
    doc = post(signed, doc.next_url())
    doc = post(signed, doc.next_url(), Digits=MARIA_CPF)
    doc = post(signed, doc.next_url(), Digits=MARIA_PASSWORD)
    assert doc.dial_target() == "+5511900000002"
    row = row_of(app)
    assert row.path == "principal,suporte,linha_rm,educacao,ofertas,oferta_p,gestao_financeira"
    assert (row.outcome, row.outcome_detail) == ("transferred",
                                                 "gestao_financeira:+5511900000002")


def test_calls_do_not_mix(app: Flask, signed: SignedClient) -> None:
    a, b = "CA" + "a1" * 16, "CA" + "b2" * 16
    doc_a = post(signed, "/voice", a)
    doc_b = post(signed, "/voice", b, From="+5521999990000")
    post(signed, doc_a.next_url(), a, Digits="7")
    post(signed, doc_b.next_url(), b, Digits="2", From="+5521999990000")
    row_a, row_b = row_of(app, a), row_of(app, b)
    assert (row_a.path, row_a.outcome) == ("principal,cadastro", "transferred")
    assert (row_b.path, row_b.outcome) == ("principal,suporte", None)
    assert row_b.from_number == "+5521999990000"


# -- steps from several workers, out of order --------------------------------------------------


def step_row(sid: str, path: list[str], at: datetime, outcome: Outcome | None = None,
             steps: int = 1) -> dict[str, object]:
    return {"call_sid": sid, "from_number": None, "to_number": None, "started_at": None,
            "path": ",".join(path), "steps": steps, "last_node": path[-1],
            "outcome": outcome.kind if outcome else None,
            "outcome_detail": outcome.detail if outcome else None, "updated_at": at}


def upsert(app: Flask, rows: list[dict[str, object]]) -> None:
    with app.extensions["database"].transaction() as session:
        upsert_calls(session, rows)


def test_an_older_step_from_another_worker_does_not_overwrite_the_path(app: Flask) -> None:
    t0 = utc(OPEN_HOURS)
    newer = ["principal", "suporte", "linha_rm"]
    upsert(app, [step_row(SID, newer, t0 + timedelta(seconds=10),
                          Outcome("transferred", "x:+551100"))])
    upsert(app, [step_row(SID, ["principal", "suporte"], t0 + timedelta(seconds=5),
                          Outcome("closed", "suporte"))])
    row = row_of(app)
    assert row.path == ",".join(newer)
    assert row.last_node == "linha_rm"
    assert (row.outcome, row.outcome_detail) == ("transferred", "x:+551100")
    assert row.updated_at == t0 + timedelta(seconds=10)
    assert row.steps == 2  # both steps count


def test_a_newer_step_does_overwrite(app: Flask) -> None:
    t0 = utc(OPEN_HOURS)
    upsert(app, [step_row(SID, ["principal"], t0)])
    upsert(app, [step_row(SID, ["principal", "cadastro"], t0 + timedelta(seconds=3),
                          Outcome("transferred", "cadastro:+5511900000007"))])
    row = row_of(app)
    assert row.path == "principal,cadastro"
    assert row.outcome == "transferred"
    # A later step without an outcome moves the path on but keeps the outcome.
    upsert(app, [step_row(SID, ["principal", "cadastro", "recado"], t0 + timedelta(seconds=9))])
    row = row_of(app)
    assert row.path == "principal,cadastro,recado"
    assert (row.outcome, row.outcome_detail) == ("transferred", "cadastro:+5511900000007")


def test_start_fields_keep_their_first_value(app: Flask) -> None:
    t0 = utc(OPEN_HOURS)
    first = {**step_row(SID, ["principal"], t0), "from_number": CALLER, "to_number": LINE,
             "started_at": t0}
    later = {**step_row(SID, ["principal", "suporte"], t0 + timedelta(seconds=4)),
             "from_number": "+5500000000000", "to_number": None,
             "started_at": t0 + timedelta(seconds=4)}
    upsert(app, [first])
    upsert(app, [later])
    row = row_of(app)
    assert (row.from_number, row.to_number, row.started_at) == (CALLER, LINE, t0)
    assert row.path == "principal,suporte"


def test_two_recorders_writing_out_of_order(app: Flask) -> None:
    """Two workers' recorders each hold steps of the same call; the older batch lands last."""
    database = app.extensions["database"]
    worker_a = CallRecorder(database, background=False)
    worker_b = CallRecorder(database, background=False)
    t0 = utc(OPEN_HOURS)
    worker_a.record(CallStarted(SID, CALLER, LINE, t0))
    worker_a.record(CallStepped(SID, ("principal",), "principal", None,
                                t0 + timedelta(seconds=1)))
    worker_b.record(CallStepped(
        SID, ("principal", "cadastro"), "cadastro",
        Outcome("transferred", "cadastro:+5511900000007"), t0 + timedelta(seconds=6)))
    worker_b.flush()
    worker_a.flush()
    row = row_of(app)
    assert row.path == "principal,cadastro"
    assert row.outcome == "transferred"
    assert row.started_at == t0
    assert row.steps == 2


def test_events_out_of_order_within_one_batch(app: Flask) -> None:
    recorder = CallRecorder(app.extensions["database"], background=False)
    t0 = utc(OPEN_HOURS)
    recorder.record(CallStepped(SID, ("principal", "suporte", "linha_rm"),
                                "linha_rm", None, t0 + timedelta(seconds=8)))
    recorder.record(CallStepped(SID, ("principal",), "principal", None, t0))
    recorder.flush()
    row = row_of(app)
    assert row.path == "principal,suporte,linha_rm"
    assert row.steps == 2


# -- odd provider fields -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["From", "To"])
def test_a_long_caller_id_neither_breaks_the_record_nor_loses_other_calls(
    app: Flask, signed: SignedClient, field: str
) -> None:
    """SIP caller ids can be long: the call is still recorded and so are the calls written with
    it in the same batch."""
    long_id = "sip:" + "a" * 90 + "@pbx.escola.example.com.br"
    other = "CA" + "d" * 32
    walk(signed, ["2"], SID, fields={field: long_id})
    walk(signed, ["2"], other)
    app.extensions["call_recorder"].flush()
    assert row_of(app, other).path == "principal,suporte"
    row = row_of(app)
    assert row.path == "principal,suporte"
    stored = row.from_number if field == "From" else row.to_number
    assert stored is not None and long_id.startswith(stored)
    response = signed.post("/voice/status", call_form(SID, CallStatus="completed",
                                                       CallDuration="5", **{field: long_id}))
    assert response.status_code == 204, response.data
    assert row_of(app).ended_at is not None


def test_a_busy_worker_writes_records_after_responses_not_on_a_timer(app, signed) -> None:
    from sqlalchemy import func, select

    from ivr.calls.models import Call
    from ivr.calls.recorder import FLUSH_SECONDS, INLINE_BATCH

    main = Doc.parse(signed.post("/voice", call_form()).data).next_url()
    started = time.monotonic()
    for n in range(INLINE_BATCH + 4):
        response = signed.post(main, call_form(f"CA{n:032d}", Digits="2"))
        assert response.status_code == 200
        response.close()  # what the server does once the body is sent
    assert time.monotonic() - started < FLUSH_SECONDS, "too slow to tell the two writers apart"
    with app.extensions["database"].transaction() as session:
        written = session.scalar(select(func.count()).select_from(Call))
    assert written >= INLINE_BATCH


def test_a_completion_that_cannot_be_written_leaves_the_login_in_place(
    app: Flask, signed: SignedClient, demo_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record's completion and the end of the call's login are one transaction: if the
    first fails, the second is not half done, and the provider still gets no 5xx."""
    from sqlalchemy.exc import OperationalError

    from auth.counters import bind_call_login
    from auth.models import CallLogin, Contact

    database = app.extensions["database"]
    with database.transaction() as session:
        maria = session.scalars(select(Contact).where(Contact.cpf == "52998224725")).one()
        bind_call_login(session, SID, contact_id=maria.id, company_id=maria.company_id,
                        now=datetime.now(UTC))

    def failing(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("UPDATE calls", {}, Exception("database is locked"))

    monkeypatch.setattr("ivr.views.complete_call", failing)
    response = signed.post("/voice/status", call_form(SID, CallStatus="completed",
                                                      CallDuration="30"))
    assert response.status_code < 500
    with database.transaction() as session:
        assert session.scalars(select(CallLogin).where(CallLogin.call_sid == SID)).one()


def test_a_login_that_cannot_be_ended_leaves_the_call_record_open(
    app: Flask, signed: SignedClient, demo_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: a receiver of ``call_ended`` that fails takes the record's
    completion down with it, and the provider still gets no 5xx."""
    from sqlalchemy.exc import OperationalError

    def failing(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("DELETE FROM call_logins", {}, Exception("database is locked"))

    walk(signed, ["7"])
    assert row_of(app).path == "principal,cadastro"
    monkeypatch.setattr("auth.subscriptions.end_call", failing)
    response = signed.post("/voice/status", call_form(SID, CallStatus="completed",
                                                      CallDuration="30"))
    assert response.status_code < 500
    row = row_of(app)
    assert (row.ended_at, row.duration_seconds, row.final_status) == (None, None, None)


def test_steps_that_cannot_be_written_are_kept_and_written_when_the_database_takes_them(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed write loses nothing: it is logged, the connection goes back clean, the steps
    are kept, and the next flush writes them with the newer ones."""

    database = app.extensions["database"]
    recorder = CallRecorder(database, background=False)
    moment = utc(OPEN_HOURS)
    other = "CA" + "e" * 32
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE calls RENAME TO calls_away")
    try:
        recorder.record(CallStepped(SID, ("principal", "cadastro"), "cadastro", None, moment))
        recorder.flush()
    finally:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE calls_away RENAME TO calls")
    assert "could not write 1 call record steps" in caplog.text
    with database.transaction() as session:
        assert session.get(Call, SID) is None
    recorder.record(CallStepped(other, ("principal", "suporte"), "suporte", None, moment))
    recorder.flush()
    assert row_of(app, other).path == "principal,suporte"
    assert row_of(app).path == "principal,cadastro"


def test_after_the_server_drops_its_connections_one_batch_is_lost_not_one_per_connection(
    app: Flask,
) -> None:
    """A database restart costs one failed write (the recorder keeps that batch): the failure
    is seen as a lost connection and the whole pool is refreshed, not one stale connection at a
    time."""
    database = app.extensions["database"]
    moment = utc(OPEN_HOURS)
    restart(database)

    def batch(letter: str) -> list[Step]:
        return [CallStepped("CA" + letter * 32, ("principal", "suporte"), "suporte", None, moment)]

    written = [write_steps(database, batch(letter)) for letter in "abcd"]
    assert written == [False, True, True, True]
    database.engine.dispose()  # the sessions' pool met the restart too: not what this tests
    assert row_of(app, "CA" + "d" * 32).path == "principal,suporte"


def test_a_call_end_the_database_refused_is_written_once_it_is_back(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    """The provider sends the status callback once: the database away (here: the table) gets
    the completion, and the end of the login with it, from the recorder when it is back."""
    from auth.counters import bind_call_login
    from auth.models import CallLogin, Contact

    database = app.extensions["database"]
    with database.transaction() as session:
        maria = session.scalars(select(Contact).where(Contact.cpf == "52998224725")).one()
        bind_call_login(session, SID, contact_id=maria.id, company_id=maria.company_id,
                        now=datetime.now(UTC))
    walk(signed, ["7"])
    app.extensions["call_recorder"].flush()
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE calls RENAME TO calls_away")
    try:
        response = signed.post("/voice/status", call_form(SID, CallStatus="completed",
                                                          CallDuration="30"))
        assert response.status_code == 204
    finally:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE calls_away RENAME TO calls")
    with database.transaction() as session:
        assert session.get(Call, SID).final_status is None
        assert session.get(CallLogin, SID) is not None
    row = row_of(app)  # the recorder's next write
    assert (row.final_status, row.duration_seconds, row.path) == ("completed", 30,
                                                                  "principal,cadastro")
    with database.transaction() as session:
        assert session.get(CallLogin, SID) is None
