"""``GET /metrics``: Prometheus' text format, summed over the instance's workers, for this
machine or a holder of ``METRICS_TOKEN`` only.

"This machine" means the request came from loopback and, if it passed proxies, every address
they recorded is loopback too: nginx on this machine forwards everyone from 127.0.0.1, but adds
the client's own address to ``X-Forwarded-For``. Anyone else needs ``Authorization: Bearer
<METRICS_TOKEN>`` (compared in constant time); without a token set, the page does not exist
for them (404), with one, a missing or wrong token is refused (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Any

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from telemetry import multiprocess

bp = Blueprint("telemetry", __name__)

PROXY_FIX_ORIGINAL = "werkzeug.proxy_fix.orig"  # where ProxyFix keeps the peer's own address


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def from_this_machine(environ: dict[str, Any]) -> bool:
    original = environ.get(PROXY_FIX_ORIGINAL) or {}
    peer = original.get("REMOTE_ADDR", environ.get("REMOTE_ADDR")) or ""
    # A unix socket's peer (gunicorn leaves the address empty) is on this machine.
    if peer and not _is_loopback(peer):
        return False
    if environ.get("HTTP_FORWARDED"):
        return False  # not a header our proxy sets: whoever sent it is not vouched for
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    return all(_is_loopback(hop) for hop in forwarded.split(",")) if forwarded else True


def bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def collect() -> bytes:
    if os.environ.get(multiprocess.VARIABLE):
        registry = CollectorRegistry()  # one per scrape, as the library asks
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@bp.get("/metrics")
def metrics() -> Response:
    token: str | None = current_app.config.get("METRICS_TOKEN")
    if not from_this_machine(request.environ):
        if not token:
            return Response("Not Found\n", status=404, mimetype="text/plain")
        if not bearer_matches(request.headers.get("Authorization"), token):
            return Response("Forbidden\n", status=403, mimetype="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(collect(), mimetype=CONTENT_TYPE_LATEST)
