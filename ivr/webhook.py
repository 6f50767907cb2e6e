"""The boundary with the provider: form parsing, signature checks, and turning replies into
responses. Every ``/voice`` view goes through ``provider_webhook``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import quote_plus, unquote, urlencode

from flask import Flask, Response, current_app, g, request, url_for
from twilio.request_validator import RequestValidator, get_signature_algorithm

from ivr.actions import Reply, Resume
from ivr.calls.events import CallStarted, CallStepped
from ivr.calls.recorder import CallRecorder
from ivr.menu import Menu
from ivr.registry import MenuRegistry
from ivr.state import CallState
from ivr.twiml import Voice, render

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # the provider's webhooks are a few hundred bytes
MAX_FIELDS = 200
TWIML = "text/xml; charset=utf-8"
# What Werkzeug leaves unescaped in a query string, so URLs read as url_for would write them.
QUERY_SAFE = "!$'()*,/:;?@"
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote_plus never changes

class Form(dict[str, str]):
    """The webhook's fields: a plain dict (last value wins) that also answers ``getall``, which
    is how twilio's validator reads every value of a repeated field without raising."""

    __slots__ = ("pairs", "repeated")

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        super().__init__(pairs or ())
        self.pairs = pairs or []
        self.repeated: dict[str, list[str]] = {}
        if pairs and len(self) != len(pairs):
            for key, value in pairs:
                self.repeated.setdefault(key, []).append(value)

    def getall(self, key: str) -> list[str]:
        return self.repeated.get(key) or [self[key]]


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` fields in order, as ``urllib.parse.parse_qsl``
    with blank values kept, but decoding only the fields that need it: this runs on every
    webhook. Raises ValueError past ``MAX_FIELDS``."""
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if "+" in piece:  # a space; "%2B" is a plus sign, so this goes first
            key, value = key.replace("+", " "), value.replace("+", " ")
        if "%" in piece:
            key, value = _unquote(key), _unquote(value)
        pairs.append((key, value))
    if len(pairs) > MAX_FIELDS:
        raise ValueError("too many fields")
    return pairs


def _unquote(text: str) -> str:
    # Most escapes in a webhook are the "+" of an E.164 number (From, To, Caller, Called).
    if text.startswith("%2B") and "%" not in text[3:]:
        return "+" + text[3:]
    return unquote(text) if "%" in text else text


def read_body(environ: dict[str, Any]) -> bytes:
    """The POST body, straight from the server when its length is declared (the provider
    always declares it); empty when larger than any webhook."""
    declared = environ.get("CONTENT_LENGTH")
    if not declared:
        # No length (chunked): Werkzeug handles the framing and MAX_CONTENT_LENGTH.
        return request.get_data(cache=False)
    if not (declared.isascii() and declared.isdigit()) or int(declared) > MAX_BODY:
        return b""
    return environ["wsgi.input"].read(int(declared))


def parse_form(environ: dict[str, Any] | None = None) -> Form:
    """The POST body; malformed input simply yields fewer fields (the request is then judged
    by its signature)."""
    body = read_body(request.environ if environ is None else environ)
    if not body:
        return Form()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    try:
        return Form(parse_pairs(text))
    except ValueError:  # more fields than any provider sends: cannot be a valid webhook
        return Form()


_QUERY_FIELDS = "ivr.query_fields"  # the parsed query string, kept in the request's environ


def query_value(environ: dict[str, Any], name: str) -> str | None:
    """One field of the query string (the call state ``s``, a counter...), the first if it is
    repeated, without building ``request.args``. The query is parsed once per request, however
    many fields a view reads."""
    fields: dict[str, str] | None = environ.get(_QUERY_FIELDS)
    if fields is None:
        fields = {}
        query = environ.get("QUERY_STRING", "")
        try:
            for key, value in parse_pairs(query) if query else ():
                fields.setdefault(key, value)
        except ValueError:  # more fields than any URL of ours carries: none of them is ours
            fields = {}
        environ[_QUERY_FIELDS] = fields
    return fields.get(name)


def query_counter(environ: dict[str, Any], name: str) -> int:
    """A retry counter carried in the action URL: one ASCII digit, anything else counts as 0
    (``int`` would also take other scripts' digits)."""
    raw = query_value(environ, name) or "0"
    return int(raw) if len(raw) == 1 and raw.isascii() and raw.isdigit() else 0


def signed_url(environ: dict[str, Any] | None = None, public_base_url: str | None = None
               ) -> str:
    """The URL the provider requested, as it signed it.

    Behind a proxy or TLS terminator the Host and scheme seen here differ from the public ones:
    ``PUBLIC_BASE_URL`` (or ProxyFix through ``PROXY_HOPS``) restores them.
    """
    environ = environ if environ is not None else request.environ
    if public_base_url is None:
        public_base_url = current_app.config["PUBLIC_BASE_URL"]
    base = public_base_url or (
        f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
    )
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def quick_signature(token: bytes, url: str, form: Form) -> str | None:
    """The provider's documented HMAC-SHA1 over the URL and the sorted fields, in one pass.

    The same value as ``RequestValidator.compute_signature`` (a test holds them equal) for the
    usual case of no repeated field; None otherwise, for the library to decide.
    """
    if form.repeated:
        return None
    payload = url + "".join([key + value for key, value in sorted(form.pairs)])
    signer = _keyed_sha1(token).copy()
    signer.update(payload.encode("utf-8"))
    return base64.b64encode(signer.digest()).decode("ascii")


@lru_cache(maxsize=4)
def _keyed_sha1(token: bytes) -> hmac.HMAC:
    """An HMAC already keyed with the token, copied per request: keying a new one goes through
    OpenSSL's digest lookup by name, which measured 10-20 µs a request inside the app against
    about 2 µs for a copy."""
    return hmac.new(token, digestmod=hashlib.sha1)


def signature_ok(form: Form, app: Flask | None = None,
                 environ: dict[str, Any] | None = None) -> bool:
    app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["VALIDATE_SIGNATURES"]:
        return True
    validator: RequestValidator | None = app.extensions.get("twilio_validator")
    environ = environ if environ is not None else request.environ
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if validator is None or not signature:
        return False
    settings = environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS")
    url = signed_url(environ, app.config["PUBLIC_BASE_URL"])
    try:
        if settings is None:
            expected = quick_signature(validator.token, url, form)
            if expected is not None and hmac.compare_digest(expected, signature):
                return True
        # Everything else (another algorithm, repeated fields, the URL signed with or without
        # its port) is the library's to judge.
        return validator.validate(url, form, signature, get_signature_algorithm(settings))
    except Exception:  # noqa: BLE001 - a malformed header is simply not a valid signature
        return False


def provider_webhook(view: Callable[..., Response]) -> Callable[..., Response]:
    """Parse the form, refuse anything not signed by the provider (403, nothing changed)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
        environ = request.environ
        form = parse_form(environ)
        if not signature_ok(form, app, environ):
            log.warning("refused %s %s: missing or bad signature", request.method, request.path)
            return Response("Forbidden\n", status=403, mimetype="text/plain")
        g.form = form
        g.call_sid = form.get("CallSid", "")[:64]
        return view(form, *args, **kwargs)

    return wrapper


def caller_number(value: str | None) -> str | None:
    """Caller ids can be SIP URIs of any length; the record keeps what fits its column."""
    return value[:64] if value else None


def registry() -> MenuRegistry:
    return current_app.extensions["menu_registry"]


def recorder() -> CallRecorder:
    return current_app.extensions["call_recorder"]


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.config["CLOCK"]
    return clock()


_voice_of_menu: tuple[Menu, Voice] | None = None


def voice_of(menu: Menu) -> Voice:
    global _voice_of_menu  # the served menu's voice, kept until the menu changes
    cached = _voice_of_menu
    if cached is not None and cached[0] is menu:
        return cached[1]
    voice = Voice(name=menu.settings.voice, language=menu.settings.language)
    _voice_of_menu = (menu, voice)
    return voice


def resume_url(resume: Resume) -> str:
    """Relative unless PUBLIC_BASE_URL is set: some providers want absolute action URLs.

    The same URL ``url_for`` builds (a test holds them equal), from the endpoint's path looked
    up once: documents that cannot be cached (a ticket's) build one or two per request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    paths: dict[tuple[str, str], str] = app.extensions.setdefault("endpoint_paths", {})
    key = (request.script_root, resume.endpoint)
    path = paths.get(key)
    if path is None:
        if len(paths) >= 256:  # script roots a proxy may vary (X-Forwarded-Prefix): stay small
            paths.clear()
        path = paths[key] = url_for(resume.endpoint)
    state = resume.state.encode()
    # What urlencode writes: a state is almost always made of characters it leaves alone.
    query = "s=" + (state if _UNQUOTED.fullmatch(state) else quote_plus(state, safe=QUERY_SAFE))
    if resume.params:
        query += "&" + urlencode(resume.params, safe=QUERY_SAFE)
    return f"{app.config['PUBLIC_BASE_URL'] or ''}{path}?{query}"


def twiml(reply: Reply, menu: Menu, state: CallState | None = None) -> Response:
    """Render the reply and note the step for the call record (off the hot path)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    call_sid = g.get("call_sid", "")
    # Where the call is now: the state the reply sends the provider back with, if any.
    reached = getattr(reply.then, "resume", None)
    here = reached.state if reached is not None else state
    # Only what the record needs: a move to another node or an outcome. A new call, a repeat,
    # a wrong key or a silence at the same node writes nothing; the status callback fills in
    # the rest (a call that never left the main menu is recorded there).
    records: CallRecorder = app.extensions["call_recorder"]
    moved = state is None or (here is not None and here.node != state.node)
    if call_sid and here is not None and (moved or reply.outcome is not None):
        form = g.get("form") or {}
        # The start time comes from the status callback (end minus duration).
        caller = CallStarted(call_sid, caller_number(form.get("From")),
                             caller_number(form.get("To")), None)
        records.record(CallStepped(
            call_sid, here.path, here.node, reply.outcome, app.config["CLOCK"](), caller))
    # Everything the action URLs depend on besides the reply: cached documents never cross it.
    scope = (app.config["PUBLIC_BASE_URL"] or "") + request.environ.get("SCRIPT_NAME", "")
    response = Response(render(reply, voice_of(menu), resume_url, scope), mimetype=TWIML)
    if records.flush_is_due():
        # Runs once the response has been sent, before the worker takes the next request.
        response.call_on_close(records.flush)
    return response


def install(app: Flask) -> None:
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if token:
        app.extensions["twilio_validator"] = RequestValidator(token)
    if not app.config["VALIDATE_SIGNATURES"]:
        log.warning("TWILIO SIGNATURE VALIDATION IS OFF: any client can drive calls")
    elif not token:
        log.warning("TWILIO_AUTH_TOKEN is not set: every /voice request will be refused (403)")
