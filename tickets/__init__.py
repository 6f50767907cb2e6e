"""Support tickets: the data, the acceptance deadlines of the support guide (§10), what a caller
hears about a ticket, the state changes a caller may make, and the import sections.

``deadlines`` and ``speech`` are pure (time is always passed in); ``service`` takes the session
from its caller, who owns the transaction.
"""
