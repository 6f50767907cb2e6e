"""Reads, validates and applies an import file: everything or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database.session import Database
from importer.errors import ImportRejected, RecordError
from importer.sections import ImportSection, PreparingSection


@dataclass(frozen=True)
class SectionReport:
    key: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def line(self) -> str:
        return (f"{self.key}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged")


@dataclass(frozen=True)
class ImportReport:
    sections: tuple[SectionReport, ...]

    def section(self, key: str) -> SectionReport:
        for report in self.sections:
            if report.key == key:
                return report
        return SectionReport(key)

    @property
    def changed(self) -> bool:
        return any(report.created or report.updated for report in self.sections)

    def lines(self) -> list[str]:
        return [report.line() for report in self.sections] or ["the file holds no records"]


@dataclass(frozen=True)
class _ParsedSection:
    section: ImportSection
    records: list[Any]


def load_import_file(path: Path) -> object:
    """The file's JSON; ``ImportRejected`` when it cannot be read or is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ImportRejected([f"cannot read the file: {error.strerror or error}"]) from error
    except UnicodeDecodeError as error:
        raise ImportRejected(["the file is not UTF-8 text"]) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRejected(
            [f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from error


def import_data(db: Database, payload: object, *, sections: Sequence[ImportSection],
                rounds: int) -> ImportReport:
    """Validates every record, then upserts them all in one transaction.

    ``sections`` read the file's lists, in the order they are applied (a list may refer to
    earlier ones). Raises ``ImportRejected`` listing every problem found, having written nothing.
    """
    parsed = _parse(payload, sections)
    with db.session() as session:  # read-only: bcrypt before the write lock is taken
        parsed = [_prepare(session, part, rounds) for part in parsed]
    with db.transaction() as session:
        return ImportReport(tuple(_apply(session, part, rounds) for part in parsed))


def _parse(payload: object, sections: Sequence[ImportSection]) -> list[_ParsedSection]:
    keys = [section.key for section in sections]
    if not isinstance(payload, dict):
        raise ImportRejected([f"the file must hold a JSON object with the lists {_join(keys)}"])
    problems = [
        f'unknown list "{key}" (the file may hold {_join(keys)})'
        for key in payload if key not in keys
    ]
    parsed: list[_ParsedSection] = []
    for section in sections:
        if section.key not in payload:
            continue
        raw_records = payload[section.key]
        if not isinstance(raw_records, list):
            problems.append(f"{section.key}: must be a list of records")
            continue
        records = []
        for index, raw in enumerate(raw_records):
            try:
                records.append(section.parse(raw))
            except ValidationError as error:
                problems.extend(_where(section.key, index, *_describe(e)) for e in error.errors())
            except RecordError as error:
                problems.append(_where(section.key, index, error.field, error.message))
        problems.extend(_duplicates(section, records))
        parsed.append(_ParsedSection(section, records))
    if problems:
        raise ImportRejected(problems)
    return parsed


def _duplicates(section: ImportSection, records: list[Any]) -> Iterator[str]:
    field = section.identity_field
    first_index: dict[object, int] = {}
    for index, record in enumerate(records):
        identity = getattr(record, field)
        if identity in first_index:
            yield _where(section.key, index, field,
                         f"same {field} as {section.key}[{first_index[identity]}]")
        else:
            first_index[identity] = index


def _prepare(session: Session, part: _ParsedSection, rounds: int) -> _ParsedSection:
    section = part.section
    if not isinstance(section, PreparingSection):
        return part
    return _ParsedSection(
        section, [section.prepare(session, record, rounds=rounds) for record in part.records]
    )


def _apply(session: Session, part: _ParsedSection, rounds: int) -> SectionReport:
    key = part.section.key
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    problems: list[str] = []
    for index, record in enumerate(part.records):
        try:
            with _watch_new_objects(session) as added:
                changed = part.section.upsert(session, record, rounds=rounds)
                session.flush()
        except RecordError as error:
            problems.append(_where(key, index, error.field, error.message))
            continue
        except IntegrityError as error:
            # the session cannot go on after this; report what came before and this record
            detail = type(error.orig).__name__
            raise ImportRejected(
                [*problems, _where(key, index, "", f"refused by the database ({detail})")]
            ) from error
        outcome = "unchanged" if not changed else "created" if added else "updated"
        counts[outcome] += 1
    if problems:
        raise ImportRejected(problems)
    return SectionReport(key, **counts)


@contextmanager
def _watch_new_objects(session: Session) -> Iterator[list[object]]:
    added: list[object] = []

    def on_pending(_session: Session, instance: object) -> None:
        added.append(instance)

    event.listen(session, "transient_to_pending", on_pending)
    try:
        yield added
    finally:
        event.remove(session, "transient_to_pending", on_pending)


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """(field, message) of one pydantic error, without the input value (it may be a password)."""
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    kind = error["type"]
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "is required"
    elif kind in {"model_type", "model_attributes_type", "dict_type"}:
        message = "must be a JSON object"
    else:
        message = error["msg"]
    return field.removeprefix("."), message


def _where(key: str, index: int, field: str, message: str) -> str:
    separator = "" if not field or field.startswith("[") else "."
    return f"{key}[{index}]{separator}{field}: {message}"


def _join(keys: Sequence[str]) -> str:
    return ", ".join(keys)
