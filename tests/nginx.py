"""nginx from the system's package in front of gunicorn instances, with the repository's own
proxy settings (``deploy/nginx/ivr-proxy.conf``), as ``make cluster`` runs it
(``scripts/cluster.py``)."""

from __future__ import annotations

from pathlib import Path

from scripts.cluster import NGINX, Nginx

__all__ = ["Nginx", "available"]


def available() -> bool:
    return Path(NGINX).exists()
