"""What operations see of the server: Prometheus metrics (``metrics``, served by ``exposition``,
summed over gunicorn's workers through ``multiprocess``) and the log format (``logs``).

Below every package of the app, like ``database``: it imports nothing of the app, so the call
handling, auth and tickets may all count through it.
"""
