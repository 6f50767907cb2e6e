"""``flask call``: try the line from a terminal, as the provider would drive it.

Posts correctly signed webhooks to a running server, prints what the caller would hear and asks
for the keys they press. Handy for newcomers and for admins checking an edited menu.
"""

from __future__ import annotations

import os
import secrets
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urljoin

import click
from twilio.request_validator import RequestValidator


class Phone:
    def __init__(self, base_url: str, token: str, caller: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(token)
        self.call_sid = "CA" + secrets.token_hex(16)
        self.form = {
            "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "CallSid": self.call_sid,
            "CallStatus": "in-progress", "Direction": "inbound", "From": caller,
            "Caller": caller, "To": "+551140030015", "Called": "+551140030015",
        }

    def post(self, path: str, extra: dict[str, str] | None = None) -> ET.Element | None:
        url = urljoin(self.base_url + "/", path.lstrip("/")) if not path.startswith("http") \
            else path
        form = {**self.form, **(extra or {})}
        signature = self.validator.compute_signature(url, form)
        request = urllib.request.Request(  # noqa: S310 - http(s) URL of our own server
            url, data=urlencode(form).encode(), method="POST",
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - our server
                body = response.read()
        except urllib.error.HTTPError as error:
            click.secho(f"[server answered {error.code}]", fg="red")
            return None
        return ET.fromstring(body) if body else None  # noqa: S314 - our own server's TwiML


def _say(element: ET.Element) -> None:
    for child in element:
        if child.tag == "Say":
            click.secho(f"  🔊 {child.text}", fg="cyan")
        elif child.tag == "Play":
            click.secho(f"  🔊 (recording {child.text})", fg="cyan")
        elif child.tag == "Pause":
            click.secho(f"  … {child.attrib.get('length', '1')}s of silence", dim=True)


def answer_fields(typed: str, takes_speech: bool) -> dict[str, str]:
    """Keys as the provider posts them; words (anything with a letter), where the prompt listens
    for speech, as a confident transcription."""
    if takes_speech and any(c.isalpha() for c in typed):
        return {"SpeechResult": typed, "Confidence": "0.9"}
    return {"Digits": typed.rstrip("#")} if typed else {}


def run_call(phone: Phone) -> None:
    document = phone.post("/voice")
    while document is not None:
        next_url: str | None = None
        extra: dict[str, str] = {}
        _say(document)
        for verb in document:
            if verb.tag == "Gather":
                _say(verb)
                keys = click.prompt("  ☎ keys, or words to say (Enter = silence)", default="",
                                    show_default=False)
                next_url = verb.attrib["action"]
                extra = answer_fields(keys, "speech" in verb.attrib.get("input", ""))
                break
            if verb.tag == "Dial":
                target = " ".join((noun.text or "") for noun in verb)
                click.secho(f"  ☎ transferring to {target}", fg="green", bold=True)
                status = click.prompt("  outcome", default="completed",
                                      type=click.Choice(["completed", "busy", "no-answer",
                                                         "failed"]))
                next_url, extra = verb.attrib["action"], {"DialCallStatus": status}
                break
            if verb.tag == "Record":
                click.secho("  ⏺ recording after the beep", fg="yellow")
                url = click.prompt("  recording URL (Enter = nothing said)", default="",
                                   show_default=False)
                if not url:
                    continue  # the provider goes on with the next verbs
                next_url, extra = verb.attrib["action"], {"RecordingUrl": url}
                break
            if verb.tag == "Redirect":
                next_url = verb.text
                break
            if verb.tag == "Hangup":
                break
        if next_url is None:
            break
        document = phone.post(next_url, extra)
    click.secho("  ☎ call ended", fg="green")
    phone.post("/voice/status", {"CallStatus": "completed", "CallDuration": "60"})


@click.command("call")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="Where the server listens.")
@click.option("--caller", default="+5511987654321", show_default=True, help="The caller's number.")
def call_cli(url: str, caller: str) -> None:
    """Place a simulated call to a running server and walk the menu from the keyboard."""
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not token:
        click.echo("Set TWILIO_AUTH_TOKEN to the server's token.", err=True)
        sys.exit(1)
    try:
        run_call(Phone(url, token, caller))
    except (urllib.error.URLError, ConnectionError) as exc:
        click.echo(f"Cannot reach the server at {url}: {exc}", err=True)
        sys.exit(1)
