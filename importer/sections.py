"""The small protocol through which a package adds its lists to the import file.

A section parses one raw record (pure, no database) and upserts one parsed record in the import's
transaction. The importer names the record (``contacts[2].cpf: ...``), refuses a list that holds
the same identity twice (``identity_field``), counts what changed and decides commit or rollback.
A record counts as *created* when its ``upsert`` added a new object to the session, as *updated*
when it returned True otherwise.

Optional capability, ``prepare``: expensive work (bcrypt) done on each parsed record in a short
read-only session *before* the write transaction opens, so an import does not hold SQLite's write
lock while it hashes. ``upsert`` must still accept an unprepared record.

The importer knows no package: the app hands it the sections, in the order a file is applied
(``app.import_sections``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session


@runtime_checkable
class ImportSection(Protocol):
    key: str  # the top-level list it reads: "companies" | "contacts" | "specialists" | "tickets"
    identity_field: str  # the parsed record's attribute that identifies it: "cpf", "number"...

    def parse(self, raw: object) -> Any:
        """A parsed record; raises pydantic ``ValidationError`` or ``RecordError``."""
        ...

    def upsert(self, session: Session, record: Any, *, rounds: int) -> bool:
        """Creates or updates the record's row; True if that changed anything.

        Raises ``RecordError`` for a reference that does not resolve.
        """
        ...


@runtime_checkable
class PreparingSection(ImportSection, Protocol):
    def prepare(self, session: Session, record: Any, *, rounds: int) -> Any:
        """The record with its expensive work done; reads only."""
        ...


def assign_changed(target: object, values: dict[str, Any]) -> bool:
    """Sets the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed

