"""The boundary with the provider: the webhook's body, its form and its signature.

Every ``/voice`` view goes through ``provider_webhook``: the body is read once, parsed into a
``Form``, and the request is refused (403, nothing changed) unless the provider signed it.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from twilio.request_validator import HMAC_SHA1, RequestValidator, get_signature_algorithm

from ivr import rate_limits
from ivr.form_fields import parse_pairs
from ivr.speech.heard import Heard, heard
from telemetry.logs import CALL_SID_KEY

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # the provider's webhooks are a few hundred bytes
VALIDATOR = "twilio_validator"  # the app's RequestValidator, in app.extensions
# In app.extensions: answers a webhook that nginx sends a second time with ``X-IVR-Resume``
# because the first try may have run in part (``ivr.fallback``).
RESUMER = "webhook_resumer"
RESUME_HEADER = "HTTP_X_IVR_RESUME"
# The provider's field names: AccountSid, Digits, SipHeader_X-Custom... The signature joins the
# URL, names and values without separators, so a name of another shape (empty, or starting
# with "." or a digit, sorting first) could carry the tail of a cut-short URL and still sign.
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")


class Form(dict[str, str]):
    """The webhook's fields: a plain dict (last value wins) that also answers ``getall``, which
    is how twilio's validator reads every value of a repeated field."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        super().__init__(pairs or ())
        self.repeated: dict[str, list[str]] = {}
        if pairs and len(self) != len(pairs):
            for key, value in pairs:
                self.repeated.setdefault(key, []).append(value)

    def getall(self, key: str) -> list[str]:
        return self.repeated.get(key) or [self[key]]


def read_body(environ: dict[str, Any]) -> bytes:
    """The POST body, read once; empty when it declares more than any webhook carries."""
    declared = environ.get("CONTENT_LENGTH")
    if not declared or environ.get("HTTP_TRANSFER_ENCODING"):
        # Werkzeug takes apart a chunked body and bounds it by MAX_CONTENT_LENGTH.
        return request.get_data(cache=False)
    if not (declared.isascii() and declared.isdigit() and int(declared) <= MAX_BODY):
        return b""
    # Straight from the server: the provider always declares the length, and Werkzeug's
    # stream wrapping costs more than the read.
    body: bytes = environ["wsgi.input"].read(int(declared))
    return body


def parse_form() -> Form:
    """The request's body as fields; malformed input simply yields fewer fields (the request is
    then judged by its signature)."""
    body = read_body(request.environ)
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


def is_well_formed(form: Form) -> bool:
    """Only what the provider sends: no repeated field, no name of another shape."""
    return not form.repeated and all(FIELD_NAME.fullmatch(name) for name in form)


def signed_url(environ: dict[str, Any], public_base_url: str | None) -> str:
    """The URL the provider requested, as it signed it.

    Behind a proxy or TLS terminator the Host and scheme seen here differ from the public ones:
    ``PUBLIC_BASE_URL`` (or ProxyFix through ``PROXY_HOPS``) restores them.
    """
    base = public_base_url or (
        f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
    )
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def signature_ok(form: Form, app: Flask | None = None) -> bool:
    """The provider's signature over the URL and the form (``twilio.request_validator``)."""
    app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["VALIDATE_SIGNATURES"]:
        return True
    validator: RequestValidator | None = app.extensions.get(VALIDATOR)
    environ = request.environ
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if validator is None or not signature:
        return False
    algorithm = get_signature_algorithm(environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"))
    url = signed_url(environ, app.config["PUBLIC_BASE_URL"])
    try:
        # One signature for the URL as requested decides almost every request; the library's
        # validate() then tries the URL with and without its port, as the provider may sign.
        if algorithm == HMAC_SHA1 and not form.repeated:
            expected = sha1_signature(validator.token, url, form)
        else:
            expected = validator.compute_signature(url, form, algorithm)
        return hmac.compare_digest(expected, signature) or validator.validate(
            url, form, signature, algorithm)
    except (ValueError, TypeError):  # an unknown algorithm, a header that is not ASCII
        return False


def sha1_signature(token: bytes, url: str, form: dict[str, str]) -> str:
    """``RequestValidator.compute_signature`` for a form without repeated fields (a property
    test holds the two equal): the library's, through its per-field lookups, cost about 30 µs
    of a menu step's 130 in the app (``scripts/bench_profile.py``), this about 4."""
    payload = url + "".join([name + value for name, value in sorted(form.items())])
    return base64.b64encode(hmac.digest(token, payload.encode("utf-8"), "sha1")).decode("ascii")


def provider_webhook(view: Callable[..., Response]) -> Callable[..., Response]:
    """Parse the form, refuse anything not signed by the provider (403, nothing changed)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
        form = parse_form()
        if not signature_ok(form, app):
            log.warning("refused %s %s: missing or bad signature", request.method, request.path)
            return forbidden()
        if not is_well_formed(form):
            log.warning("refused %s %s: a repeated or malformed field name", request.method,
                        request.path)
            return forbidden()
        g.form = form
        g.call_sid = request.environ[CALL_SID_KEY] = form.get("CallSid", "")[:64]
        limited = rate_limits.refusal(app, request.path, g.call_sid, form.get("From"))
        if limited is not None:
            return limited
        if RESUME_HEADER in request.environ:
            resumer: Callable[[Form], Response] = app.extensions[RESUMER]
            return resumer(form)
        return view(form, *args, **kwargs)

    return wrapper


def forbidden() -> Response:
    return Response("Forbidden\n", status=403, mimetype="text/plain")


def answer_of(form: Mapping[str, str]) -> Heard:
    """What the caller keyed (``Digits``) or said (``SpeechResult``, ``Confidence``) at a
    ``<Gather>``."""
    return heard(form.get("Digits"), form.get("SpeechResult"), form.get("Confidence"))


def dial_status(form: Mapping[str, str]) -> str:
    """How a transfer went (``DialCallStatus``), trimmed and in lower case; '' when absent."""
    return form.get("DialCallStatus", "").strip().lower()


def caller_on_line(form: Mapping[str, str]) -> bool:
    """After an answered transfer: the caller's own call is still in progress, so the person
    they talked to hung up first."""
    return form.get("CallStatus") == "in-progress"


def recording_url(form: Mapping[str, str], max_length: int) -> str | None:
    """The ``RecordingUrl`` of a recording's callback when it is a web address, cut to
    ``max_length`` (the column or the action URL it goes in); None for none or anything else."""
    url = form.get("RecordingUrl", "")[:max_length]
    return url if url.startswith(("https://", "http://")) else None


def caller_number(value: str | None) -> str | None:
    """Caller ids can be SIP URIs of any length; the record keeps what fits its column."""
    return value[:64] if value else None


def install(app: Flask) -> None:
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if token:
        app.extensions[VALIDATOR] = RequestValidator(token)
    if not app.config["VALIDATE_SIGNATURES"]:
        log.warning("TWILIO SIGNATURE VALIDATION IS OFF: any client can drive calls")
    elif not token:
        log.warning("TWILIO_AUTH_TOKEN is not set: every /voice request will be refused (403)")
