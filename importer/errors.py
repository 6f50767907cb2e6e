"""Why an import file is refused. Messages never repeat a password or a password hash."""

from __future__ import annotations

from collections.abc import Iterable


class RecordError(Exception):
    """A problem with one record, raised by a section's ``parse`` or ``upsert``.

    ``field`` names the record's field at fault ("" for the record as a whole); the importer adds
    the record's position, e.g. ``contacts[2].company: no company with CNPJ ...``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class ImportRejected(Exception):
    """The file was refused and nothing of it was written; ``problems`` has one line each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))
