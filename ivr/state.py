"""The caller's place in the tree, carried in the action URLs the provider signs.

Keeping it in the URL means a menu step needs no database read or write, and any worker or
instance can serve the next step. The encoding is compact and strict: anything that does not
decode is treated as a call we know nothing about (back to the main menu), never as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

NODE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_PATH = 24  # keep URLs short when a caller loops through the menus many times
MAX_COUNT = 9

_SEPARATOR = "."


@dataclass(frozen=True)
class CallState:
    node: str
    invalid: int = 0
    silence: int = 0
    # Digits keyed at a direct entry (a ticket number), carried to the step that uses them.
    entry: str = ""
    path: tuple[str, ...] = ()

    def at(self, node: str) -> CallState:
        """The state on arriving at ``node``: counters reset, node appended to the path."""
        path = (*self.path, node)[-MAX_PATH:]
        return CallState(node=node, path=path, entry=self.entry)

    def with_entry(self, entry: str) -> CallState:
        # Usually already there: a ticket's steps carry its number in the state.
        return self if entry == self.entry else replace(self, entry=entry)

    def bump_invalid(self) -> CallState:
        return replace(self, invalid=min(self.invalid + 1, MAX_COUNT))

    def bump_silence(self) -> CallState:
        return replace(self, silence=min(self.silence + 1, MAX_COUNT))

    def encode(self) -> str:
        return _SEPARATOR.join(
            (self.node, str(self.invalid), str(self.silence), self.entry, "-".join(self.path))
        )

    @classmethod
    def decode(cls, raw: str | None) -> CallState | None:
        if not raw or len(raw) > 2048:
            return None
        return _decode(raw)


@lru_cache(maxsize=4096)
def _decode(raw: str) -> CallState | None:
    """States are immutable and callers at the same point of the tree send the same text, so
    decoded states are shared."""
    parts = raw.split(_SEPARATOR)
    if len(parts) != 5:
        return None
    node, invalid, silence, entry, path = parts
    if not NODE_NAME.match(node):
        return None
    # ASCII digits only: ``isdigit`` and ``int`` also take other scripts' digits.
    counters_ok = all(len(c) == 1 and c.isascii() and c.isdigit() for c in (invalid, silence))
    if not counters_ok:
        return None
    if entry and not (entry.isascii() and entry.isdigit() and len(entry) <= 16):
        return None
    nodes = tuple(p for p in path.split("-") if p) if path else ()
    if len(nodes) > MAX_PATH or not all(NODE_NAME.match(n) for n in nodes):
        return None
    return CallState(node=node, invalid=int(invalid), silence=int(silence), entry=entry, path=nodes)
