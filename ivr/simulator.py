"""``flask call``: a phone in the terminal, driving the line as the provider would.

In-process by default: the app is built by its own factory and its webhooks are posted through
Flask's test client, signed like the provider signs them, so each step takes the same code path
as a real call (signature check, views, engine, call record) with no server running. ``--url``
posts to a running server instead, signed with its ``TWILIO_AUTH_TOKEN``.

With ``--keys`` the call is scripted and the transcript printed: what the caller hears, each
transfer as ``DIAL <target>``; the exit status is 1 when the application answered an error
(an HTTP error, or the apology of a failure). Without it, the keys are asked for at each prompt.
"""

from __future__ import annotations

import secrets
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import click
from flask import Flask, current_app
from twilio.request_validator import RequestValidator

from ivr.errors import FAILURE_HEADER
from ivr.menu import MenuError

LINE_NUMBER = "+551140030015"
DEFAULT_CALLER = "+5511987654321"
SILENCE = "T"
# What ``--dial`` says the transfer's other end does, as the provider reports it.
DIAL_STATUSES = {"answered": "completed", "busy": "busy", "no-answer": "no-answer"}

AppFactory = Callable[[dict[str, object]], Flask]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    failed: bool  # the application answered an error

    def document(self) -> ET.Element | None:
        if self.status != 200 or not self.body:
            return None
        try:
            return ET.fromstring(self.body)  # noqa: S314 - TwiML of our own application
        except ET.ParseError:
            return None  # not TwiML: not the line's server


class Line(Protocol):
    """Where the webhooks go: the app in this process, or a server."""

    def post(self, url: str, form: dict[str, str]) -> Answer: ...


class InProcess:
    """The app through Flask's test client, with the provider's signature."""

    BASE = "http://localhost"  # the test client's host: the URL the app checks signatures for

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.validator = RequestValidator(token)

    def post(self, url: str, form: dict[str, str]) -> Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.BASE + path, form)
        response = self.client.post(path, data=urlencode(form),
                                    content_type="application/x-www-form-urlencoded",
                                    headers={"X-Twilio-Signature": signature})
        return Answer(response.status_code, response.data,
                      response.status_code >= 400 or FAILURE_HEADER in response.headers)


class OverHttp:
    """A running server, signed with its token for the URL requested."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.validator = RequestValidator(token)

    def post(self, url: str, form: dict[str, str]) -> Answer:
        target = urljoin(self.base_url, url)
        request = urllib.request.Request(  # noqa: S310 - the http(s) URL the admin gave
            target, data=urlencode(form).encode(), method="POST",
            headers={"X-Twilio-Signature": self.validator.compute_signature(target, form),
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return Answer(response.status, response.read(),
                              response.headers.get(FAILURE_HEADER) is not None)
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), True)


class Caller(Protocol):
    """Who holds the phone: what they key at a prompt (None: they hang up), how a transfer
    goes, whether they leave a message at a recording."""

    def keys(self) -> str | None: ...

    def dial(self, target: str) -> str: ...

    def record(self) -> bool | None: ...

    def hear(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...


class Scripted:
    """``--keys``: one item per prompt (``T`` silence); the caller hangs up when they run out.
    At a recording an item is taken too: ``T`` leaves no message, anything else (``#``) one."""

    def __init__(self, items: list[str], dial_status: str) -> None:
        self.items = items
        self.dial_status = dial_status

    def _next(self) -> str | None:
        if not self.items:
            return None
        item = self.items.pop(0)
        return "" if item == SILENCE else item

    def keys(self) -> str | None:
        keys = self._next()
        if keys is not None:
            click.echo(f"> {keys or SILENCE}")
        return keys

    def dial(self, target: str) -> str:
        return self.dial_status

    def record(self) -> bool | None:
        said = self._next()
        return None if said is None else bool(said)

    def hear(self, text: str) -> None:
        click.echo(text)

    def note(self, text: str) -> None:
        click.echo(f"({text})")


class Interactive:
    """The keys asked for at each prompt; Ctrl-D or Ctrl-C hangs up."""

    def __init__(self, dial_status: str | None) -> None:
        self.dial_status = dial_status

    def keys(self) -> str | None:
        try:
            return str(click.prompt("  keys, or words to say (Enter = silence)", default="",
                                    show_default=False))
        except click.Abort:
            return None

    def dial(self, target: str) -> str:
        if self.dial_status is not None:
            return self.dial_status
        try:
            choice = click.prompt("  the other end", default="answered",
                                  type=click.Choice(list(DIAL_STATUSES)))
        except click.Abort:
            choice = "answered"
        return DIAL_STATUSES[str(choice)]

    def record(self) -> bool | None:
        try:
            return bool(click.confirm("  leave a message?", default=True))
        except click.Abort:
            return None

    def hear(self, text: str) -> None:
        click.secho(f"  {text}", fg="cyan")

    def note(self, text: str) -> None:
        click.secho(f"  ({text})", dim=True)


def new_call_form(caller: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01",
            "CallSid": "CA" + secrets.token_hex(16), "CallStatus": "in-progress",
            "Direction": "inbound", "From": caller, "Caller": caller, "To": LINE_NUMBER,
            "Called": LINE_NUMBER}


def keyed(gather: ET.Element, keys: str) -> str:
    """The Digits the provider would post for ``keys``: up to the finish key, at most
    ``numDigits``."""
    finish = gather.attrib.get("finishOnKey", "")
    if finish and finish in keys:
        keys = keys[:keys.index(finish)]
    limit = gather.attrib.get("numDigits", "")
    return keys[:int(limit)] if limit.isdigit() else keys


def answer_fields(gather: ET.Element, typed: str) -> dict[str, str]:
    """What the provider would post for ``typed``: words (anything with a letter), where the
    prompt listens for speech, as a confident transcription; else the keys."""
    if "speech" in gather.attrib.get("input", "") and any(c.isalpha() for c in typed):
        return {"SpeechResult": typed, "Confidence": "0.9"}
    digits = keyed(gather, typed)
    return {"Digits": digits} if digits else {}


def place_call(line: Line, caller: Caller, number: str) -> bool:
    """One call from the first webhook to the status callback. True when every answer was
    good (no HTTP error, no apology of a failure)."""
    form = new_call_form(number)
    answer = line.post("/voice", form)
    good = True
    while True:
        good = good and not answer.failed
        document = answer.document()
        if document is None:
            caller.note(f"the application answered HTTP {answer.status}"
                        + ("" if answer.status != 200 else " without TwiML"))
            good = False
            break
        step = _follow(document, caller)
        if step is None:
            break
        url, fields = step
        answer = line.post(url, {**form, **fields})
    caller.note("call ended")
    ended = line.post("/voice/status", {**form, "CallStatus": "completed", "CallDuration": "60"})
    return good and not ended.failed


def _follow(document: ET.Element, caller: Caller) -> tuple[str, dict[str, str]] | None:
    """Play the document to the caller; where the provider posts next, and what, or None
    when the call ends."""
    for verb in document:
        if verb.tag in {"Say", "Play", "Pause"}:
            _hear(verb, caller)
        elif verb.tag == "Gather":
            for inner in verb:
                _hear(inner, caller)
            typed = caller.keys()
            if typed is None:
                return None
            fields = answer_fields(verb, typed)
            if fields:
                return verb.attrib["action"], fields
            # Silence: the provider goes on to the next verb (the app's Redirect).
        elif verb.tag == "Dial":
            target = " ".join((noun.text or "").strip() for noun in verb) or (verb.text or "")
            click.echo(f"DIAL {target.strip()}")
            return verb.attrib["action"], {"DialCallStatus": caller.dial(target)}
        elif verb.tag == "Record":
            caller.note("recording after the beep")
            said = caller.record()
            if said is None:
                return None
            if said:
                recording = ("https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32
                             + "/Recordings/RE" + secrets.token_hex(16))
                return verb.attrib["action"], {"RecordingUrl": recording,
                                               "RecordingDuration": "10"}
        elif verb.tag == "Redirect":
            return (verb.text or "").strip(), {}
        elif verb.tag == "Hangup":
            return None
    return None


def _hear(verb: ET.Element, caller: Caller) -> None:
    if verb.tag == "Say" and verb.text:
        caller.hear(verb.text)
    elif verb.tag == "Play":
        caller.note(f"plays {verb.text}")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("not an ISO 8601 time (e.g. 2026-12-01T10:00:00-03:00)",
                                 param_hint="--at") from None
    if moment.tzinfo is None:
        raise click.BadParameter("needs a UTC offset (e.g. 2026-12-01T10:00:00-03:00)",
                                 param_hint="--at")
    return moment


@contextmanager
def in_process(factory: AppFactory, shutdown: Callable[[Flask], None], menus: str | None,
               at: datetime | None) -> Iterator[InProcess]:
    """The app built for this call: the menu file and clock given, a token of its own."""
    token = secrets.token_hex(16)
    overrides: dict[str, object] = {
        "TWILIO_AUTH_TOKEN": token, "VALIDATE_SIGNATURES": True,
        # Posted straight to the app: no proxy, no public URL to sign for.
        "PUBLIC_BASE_URL": None, "PROXY_HOPS": 0,
    }
    if menus is not None:
        overrides["MENUS_FILE"] = Path(menus)
    if at is not None:
        overrides["CLOCK"] = lambda: at
    try:
        app = factory(overrides)
    except MenuError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in the menu file") from None
    try:
        yield InProcess(app, token)
    finally:
        shutdown(app)


def call_command(factory: AppFactory, shutdown: Callable[[Flask], None]) -> click.Command:
    """The ``call`` command, building its app with ``factory`` (``app.create_app``)."""

    @click.command("call")
    @click.option("--keys", help="Scripted: what the caller keys at each prompt, comma-separated "
                  "(T = silence), e.g. 2,2,3,9,9,1,52998224725#,482913#.")
    @click.option("--at", "at_text", metavar="ISO_TIME",
                  help="The clock the call sees, e.g. 2026-12-01T10:00:00-03:00.")
    @click.option("--menus", type=click.Path(exists=True, dir_okay=False),
                  help="Call through this menu file instead of the served one.")
    @click.option("--from", "number", default=DEFAULT_CALLER, show_default=True,
                  help="The caller's number.")
    @click.option("--dial", type=click.Choice(list(DIAL_STATUSES)),
                  help="What the other end of a transfer does [scripted: answered].")
    @click.option("--url", help="A running server's base URL, instead of the app in-process.")
    def call(keys: str | None, at_text: str | None, menus: str | None, number: str,
             dial: str | None, url: str | None) -> None:
        """A phone in the terminal: call the line, hear it, key in answers."""
        at = _moment(at_text)
        dial_status = DIAL_STATUSES[dial or "answered"]
        caller: Caller = (Scripted([item.strip() for item in keys.split(",")], dial_status)
                          if keys is not None else
                          Interactive(DIAL_STATUSES[dial] if dial else None))
        if url is not None:
            if menus is not None or at is not None:
                raise click.UsageError("--menus and --at apply in-process: start the server "
                                       "with MENUS_FILE or IVR_FROZEN_TIME instead")
            token = current_app.config.get("TWILIO_AUTH_TOKEN")
            if not token:
                raise click.UsageError("set TWILIO_AUTH_TOKEN to the server's token")
            good = _over_http(OverHttp(url, str(token)), caller, number, url)
        else:
            with in_process(factory, shutdown, menus, at) as line:
                good = place_call(line, caller, number)
        sys.exit(0 if good else 1)

    return call


def _over_http(line: OverHttp, caller: Caller, number: str, url: str) -> bool:
    try:
        return place_call(line, caller, number)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise click.ClickException(f"cannot reach the server at {url}: {exc}") from None
