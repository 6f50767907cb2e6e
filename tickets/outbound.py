"""Outbound calls through the provider's REST API: the real ``twilio.rest.Client``, pointed at
``TWILIO_API_URL`` (the provider's public API, a regional edge, or a stand-in in tests)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)

# The provider answers a call request in well under a second; a job must not hang on it.
REQUEST_TIMEOUT_SECONDS = 15
# The provider listens through the greeting and fetches the webhook once an answering machine's
# message has ended (after its beep), so what we say is recorded whole.
MACHINE_DETECTION = "DetectMessageEnd"
STATUS_EVENTS = ["completed"]


class PlacementFailed(Exception):
    """The provider did not take the call (refused, unreachable, timed out)."""


@dataclass(frozen=True)
class OutboundSettings:
    account_sid: str
    auth_token: str
    api_url: str
    caller_id: str
    public_base_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> OutboundSettings | str:
        """The settings, or which variables are missing (reminder calls are then skipped)."""
        names = {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN",
                 "caller_id": "OUTBOUND_CALLER_ID", "public_base_url": "PUBLIC_BASE_URL"}
        missing = [name for name in names.values() if not config.get(name)]
        if missing:
            return ", ".join(missing)
        return cls(**{field: str(config[name]) for field, name in names.items()},
                   api_url=str(config["TWILIO_API_URL"]))


class OutboundCalls:
    """Places calls whose answer comes to this server's webhooks."""

    def __init__(self, settings: OutboundSettings) -> None:
        self.settings = settings
        self.client = Client(settings.account_sid, settings.auth_token,
                             http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS))
        self.client.api.base_url = settings.api_url

    def place(self, to: str, path: str, status_path: str) -> str:
        """Calls ``to``; the provider fetches ``path`` when it is answered and posts the final
        status to ``status_path`` (paths of this server). Returns the new call's SID."""
        base = self.settings.public_base_url
        try:
            call = self.client.calls.create(
                to=to, from_=self.settings.caller_id, url=base + path, method="POST",
                status_callback=base + status_path, status_callback_method="POST",
                status_callback_event=STATUS_EVENTS, machine_detection=MACHINE_DETECTION)
        except (TwilioException, RequestException) as exc:
            raise PlacementFailed(str(exc)) from exc
        if not call.sid:
            raise PlacementFailed("the provider answered without a call SID")
        return str(call.sid)
