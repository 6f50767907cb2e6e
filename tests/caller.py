"""What the call-walk helpers post through: the in-process ``SignedClient`` (tests.conftest) or a
live server's ``GunicornCaller`` (tests.e2e), so the same walks drive both."""

from __future__ import annotations

from typing import Protocol


class Answer(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def data(self) -> bytes: ...


class Caller(Protocol):
    def post(self, path: str, data: dict[str, str] | None = None) -> Answer: ...
