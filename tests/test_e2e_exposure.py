"""What a real gunicorn leaves in its access log, and whose word it takes for the signed URL."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AUTH_TOKEN, call_form
from tests.e2e import live_server
from tests.server import ProviderClient
from tests.test_voice_tickets import hear_ticket, post

SID = "CA" + "e" * 32
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123456789"


def test_the_access_log_keeps_no_keyed_ticket_number_or_recording_url(tmp_path: Path) -> None:
    access_log = tmp_path / "access.log"
    with live_server(tmp_path, environ={"GUNICORN_ACCESS_LOG": str(access_log)}) as live:
        doc = hear_ticket(live.caller, "12345678", sid=SID)  # keyed at the main menu
        doc = post(live.caller, doc.next_url(), "4", SID)  # reject: record the reason
        doc = post(live.caller, doc.next_url(), sid=SID, RecordingUrl=RECORDING)
        confirm_url = doc.next_url()
        assert "12345678" in confirm_url and "Recordings" in confirm_url  # what is at stake
        post(live.caller, confirm_url, "9", SID)  # not confirmed: changes nothing
    logged = access_log.read_text()
    assert '"POST /voice/tickets/confirm" 200' in logged  # the log is written, paths and all
    assert "12345678" not in logged
    assert "Recordings" not in logged and "RE0123456789" not in logged
    assert "s=" not in logged and "r=" not in logged


def test_a_forwarded_scheme_from_loopback_does_not_change_the_signed_url(tmp_path: Path) -> None:
    """Only PUBLIC_BASE_URL or PROXY_HOPS may say what URL the provider signed."""
    with live_server(tmp_path) as live:
        as_https = ProviderClient(live.server.base, AUTH_TOKEN,
                                  public_base=live.server.base.replace("http:", "https:"))
        response = as_https.post("/voice", call_form(SID),
                                 headers={"X-Forwarded-Proto": "https"})
        assert response.status == 403
        assert live.caller.client.post("/voice", call_form(SID)).status == 200
