"""nginx from the system's package in front of gunicorn instances, with the repository's own
proxy settings (``deploy/nginx/ivr-proxy.conf``), as ``make cluster`` runs it
(``scripts/cluster.py``)."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.cluster import NGINX, Nginx

__all__ = ["Nginx", "available"]


def available() -> bool:
    """Whether the tests that need nginx can run; under CI (``.ci/run`` installs it) a missing
    nginx is an error, not a quiet skip."""
    if Path(NGINX).exists():
        return True
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Debian's nginx (.ci/run installs it)")
    return False
