"""The satisfaction survey after a contact with people (docs/rules.md#satisfaction-survey):
its answers, the webhooks that take them, and ``surveys export``."""
