"""Caller authentication: contacts of client companies, their phone passwords and lockouts.

``documents`` and ``passwords`` are pure; ``service`` holds the login rules and takes the session
from its caller, who owns the transaction; ``importing`` plugs companies and contacts into the
``data import`` command; ``cli`` adds ``flask contacts ...``.
"""
