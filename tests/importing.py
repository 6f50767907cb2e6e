"""``import_data`` as ``flask data import`` runs it: with the sections the app registers."""

from __future__ import annotations

from app import import_sections
from database.session import Database
from importer import ImportReport
from importer import import_data as import_with_sections


def import_data(db: Database, payload: object, *, rounds: int) -> ImportReport:
    return import_with_sections(db, payload, sections=import_sections(), rounds=rounds)
