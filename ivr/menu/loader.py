"""Turns ``menus.yaml`` text into a ready ``Menu``, or every problem as ``FILE:LINE: message``.

``menus check`` and the running server use exactly this code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ivr.menu.checks import PathProblem, check_menu
from ivr.menu.schema import (
    MenuFile,
    Node,
    Schedule,
    Settings,
    expand_days,
    parse_range,
)
from ivr.menu.yamlsource import Path, read_yaml
from ivr.schedule import ScheduleSpec, Window


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class MenuError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Menu:
    """A validated menu, with its schedules compiled for the engine."""

    spec: MenuFile
    schedules: dict[str, ScheduleSpec]
    version: str
    source: str

    @property
    def settings(self):  # noqa: ANN201 - pydantic model type
        return self.spec.settings

    def node(self, name: str) -> Node | None:
        return self.spec.nodes.get(name)


def parse_menu(text: str, filename: str) -> Menu:
    source = read_yaml(text)
    problems = [Problem(filename, line, message) for line, message in source.problems]
    if source.data is None:
        raise MenuError(problems)
    if not isinstance(source.data, dict):
        raise MenuError([*problems, Problem(filename, 1, "the file must be a mapping")])
    spec, path_problems = _validate(source.data)
    problems += [Problem(filename, source.line_of(path), message)
                 for path, message in path_problems]
    if problems or spec is None:
        raise MenuError(sorted(problems, key=lambda p: p.line))
    version = str(spec.version) if spec.version is not None else ""
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Menu(
        spec=spec,
        schedules={name: compile_schedule(name, s, spec.settings.timezone)
                   for name, s in spec.schedules.items()},
        version=f"{version}+{digest}" if version else digest,
        source=filename,
    )


_NODE = TypeAdapter(Node)


def _validate(data: dict[str, object]) -> tuple[MenuFile | None, list[PathProblem]]:
    """Validates section by section so that one bad node does not hide the problems of others,
    then runs the cross-checks on whatever is well formed."""
    try:
        return MenuFile.model_validate(data), _cross_checks(MenuFile.model_validate(data), set())
    except ValidationError as exc:
        whole_file_errors = exc
    problems: list[PathProblem] = []
    settings: Settings | None = None
    nodes: dict[str, object] = {}
    broken: set[str] = set()
    for error in whole_file_errors.errors():
        loc = error["loc"]
        if not loc or loc[0] not in ("settings", "nodes"):
            problems.append(_problem(data, error))
    raw_settings = data.get("settings")
    if isinstance(raw_settings, dict):
        try:
            settings = Settings.model_validate(raw_settings)
        except ValidationError as exc:
            problems += [_problem(data, e, ("settings",)) for e in exc.errors()]
            # Check the rest of the file against the settings that are well formed.
            bad_fields = {e["loc"][0] for e in exc.errors() if e["loc"]}
            try:
                settings = Settings.model_validate(
                    {k: v for k, v in raw_settings.items() if k not in bad_fields}
                )
            except ValidationError:
                settings = None
    raw_nodes = data.get("nodes")
    if isinstance(raw_nodes, dict):
        for name, raw in raw_nodes.items():
            try:
                nodes[name] = _NODE.validate_python(raw)
            except ValidationError as exc:
                broken.add(name)
                problems += [_problem(data, e, ("nodes", name)) for e in exc.errors()]
    else:
        problems += [_problem(data, e) for e in whole_file_errors.errors()
                     if e["loc"][:1] == ("nodes",)]
    if settings is not None and isinstance(raw_nodes, dict):
        partial = MenuFile.model_construct(
            settings=settings,
            schedules=data.get("schedules") if isinstance(data.get("schedules"), dict) else {},
            nodes=nodes,
        )
        problems = _dedupe(problems) + _cross_checks(partial, broken)
        return None, problems
    return None, _dedupe(problems)


def _cross_checks(spec: MenuFile, broken: set[str]) -> list[PathProblem]:
    return check_menu(spec, broken)


def load_menu(path: str | FilePath, display_name: str | None = None) -> Menu:
    name = display_name or str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MenuError([Problem(name, 1, f"cannot read the file: {exc}")]) from None
    return parse_menu(text, name)


def compile_schedule(name: str, schedule: Schedule, timezone: str) -> ScheduleSpec:
    weekly: list[list[Window]] = [[] for _ in range(7)]
    for days, ranges in schedule.hours.items():
        for text in [ranges] if isinstance(ranges, str) else ranges:
            start, end = parse_range(text)
            for day in expand_days(days):
                weekly[day].append(Window(start, end))
    plantao = tuple(Window(*parse_range(w.hours), on_duty=w.on_duty) for w in schedule.plantao)
    local_dates = tuple(d for d in schedule.holidays.local if isinstance(d, date))
    local_yearly = tuple(
        (int(d[:2]), int(d[3:])) for d in schedule.holidays.local if isinstance(d, str)
    )
    return ScheduleSpec(
        name=name,
        timezone=timezone,
        weekly=tuple(tuple(sorted(day, key=lambda w: w.start)) for day in weekly),
        plantao=plantao,
        country=schedule.holidays.country,
        subdivision=schedule.holidays.state,
        local_dates=local_dates,
        local_yearly=local_yearly,
        closed_dates=tuple(schedule.holidays.closed),
    )


def _problem(
    data: dict[str, object], error: ErrorDetails, prefix: tuple[str, ...] = ()
) -> PathProblem:
    loc = (*prefix, *error["loc"])
    path, where = _resolve(data, loc)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return path, f"unknown field '{loc[-1]}'"
    if error["type"] == "missing":
        return path, f"{'.'.join(map(str, path)) or 'file'}: missing field '{loc[-1]}'"
    return path, f"{where}: {message}" if where else message


def _resolve(data: object, loc: tuple[int | str, ...]) -> tuple[Path, str]:
    """Follows pydantic's error location through the data, skipping union tags."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and str(part) in current:
            current = current[str(part)]
            path.append(str(part))
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
        # anything else is a union member or discriminator name, not a place in the file
    return tuple(path), ".".join(str(p) for p in path)


def _dedupe(problems: list[PathProblem]) -> list[PathProblem]:
    """Union types report one error per alternative: keep the first per place."""
    seen: set[Path] = set()
    result = []
    for path, message in problems:
        if path in seen:
            continue
        seen.add(path)
        result.append((path, message))
    return result
