"""gunicorn settings for the benchmark: exactly ``gunicorn.conf.py``, plus two things it needs.

Both apps are served with this file, so they differ only in the app module.

- The access log is off (``accesslog = None``) when ``GUNICORN_ACCESS_LOG`` is empty, whatever
  ``gunicorn.conf.py`` does with an empty value (gunicorn 27 refuses to open a file named "").
- The control socket is off: two masters on one host would share its default path.
"""

import os
from pathlib import Path

_MAIN_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
exec(compile(_MAIN_CONFIG.read_text(), str(_MAIN_CONFIG), "exec"))  # our own, trusted file

if not os.environ.get("GUNICORN_ACCESS_LOG"):
    accesslog = None

control_socket_disable = True
