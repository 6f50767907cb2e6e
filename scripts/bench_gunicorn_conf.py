"""gunicorn settings for the benchmark: exactly ``gunicorn.conf.py``, with the access log off.

Both apps are served with this file, so they differ only in the app module. It exists because
``GUNICORN_ACCESS_LOG=""`` does not switch the access log off in ``gunicorn.conf.py``: gunicorn
then tries to open a file named "" and refuses to start. ``accesslog = None`` is "off".
"""

import os
from pathlib import Path

_MAIN_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
exec(compile(_MAIN_CONFIG.read_text(), str(_MAIN_CONFIG), "exec"))  # our own, trusted file

if not os.environ.get("GUNICORN_ACCESS_LOG"):
    accesslog = None

# Two masters on one host would share the default control socket path; the benchmark needs none.
control_socket_disable = True
