"""Turns ``menus.yaml`` text into a ready ``Menu``, or every problem as ``FILE:LINE: message``.

``menus check`` and the running server use exactly this code.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ivr.menu.checks import PathProblem, check_menu
from ivr.menu.placeholders import fill, line_values, map_texts
from ivr.menu.prompts import build_prompts
from ivr.menu.schema import (
    LineSettings,
    MenuFile,
    Node,
    Schedule,
    expand_days,
    parse_range,
)
from ivr.menu.wording import Wording
from ivr.menu.yamlsource import YamlPath, read_yaml
from ivr.schedule import ScheduleSpec, Window, describe_hours

# The shipped menu is under 8 KiB: anything past this is a mistake or an attack, refused before
# it is parsed.
MAX_MENU_BYTES = 256 * 1024


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
    """A validated menu, with its schedules compiled for the engine. In ``spec`` every text has
    its placeholders filled and every menu node a prompt and a short prompt (built from the
    labels where the file has none)."""

    spec: MenuFile
    schedules: dict[str, ScheduleSpec]
    version: str
    source: str
    # Each schedule's hours as said ("de segunda a sexta-feira, das 7h às 19h...").
    hours: dict[str, str]

    @property
    def settings(self) -> LineSettings:
        return self.spec.settings

    @property
    def wording(self) -> Wording:
        return self.spec.wording

    def node(self, name: str) -> Node | None:
        return self.spec.nodes.get(name)


def parse_menu(text: str, filename: str) -> Menu:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MENU_BYTES:
        raise MenuError([_too_large(filename)])
    try:
        return _parse_menu(text, filename)
    except MenuError:
        raise
    except RecursionError:
        raise MenuError([Problem(filename, 1, "YAML aliases nest too deeply")]) from None
    except Exception as exc:  # noqa: BLE001 - a menu we cannot load is refused, never fatal
        raise MenuError([Problem(filename, 1, f"cannot be loaded: {exc}")]) from None


def _parse_menu(text: str, filename: str) -> Menu:
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
    schedules = {}
    for name, schedule in spec.schedules.items():
        try:
            schedules[name] = compile_schedule(name, schedule, spec.settings.timezone)
        except ValueError as exc:
            problems.append(Problem(filename, source.line_of(("schedules", name)), str(exc)))
    if problems:
        raise MenuError(problems)
    hours = {name: describe_hours(schedule) for name, schedule in schedules.items()}
    values = line_values(spec, next(iter(hours.values()), None))
    spec = build_prompts(map_texts(spec, lambda _path, text, fields: fill(text, fields, values)))
    return Menu(
        spec=spec,
        schedules=schedules,
        version=f"{version}+{digest}" if version else digest,
        source=filename,
        hours=hours,
    )


_NODE: TypeAdapter[Any] = TypeAdapter(Node)
_SCHEDULE: TypeAdapter[Any] = TypeAdapter(Schedule)
_SETTINGS: TypeAdapter[Any] = TypeAdapter(LineSettings)
_WORDING: TypeAdapter[Any] = TypeAdapter(Wording)


def _validate(data: dict[str, object]) -> tuple[MenuFile | None, list[PathProblem]]:
    """Validates section by section so that one bad node does not hide the problems of others,
    then runs the cross-checks on whatever is well formed (or can be, without its bad fields)."""
    try:
        spec = MenuFile.model_validate(data)
    except ValidationError as exc:
        whole_file_errors = exc.errors()
    else:
        return spec, check_menu(spec, set())
    problems: list[PathProblem] = []
    broken: set[str] = set()
    sections = ("settings", "schedules", "nodes", "wording")
    for error in whole_file_errors:
        loc = error["loc"]
        if not loc or loc[0] not in sections or not isinstance(data.get(str(loc[0])), dict):
            problems.append(_problem(data, error))
    settings = None
    if isinstance(data.get("settings"), dict):
        settings = _each(data, ("settings",), data["settings"], _SETTINGS, problems)
    wording = Wording()
    if isinstance(data.get("wording"), dict):
        wording = _each(data, ("wording",), data["wording"], _WORDING, problems) or wording
    schedules: dict[str, Schedule] = {}
    nodes: dict[str, Node] = {}
    parts: tuple[tuple[str, TypeAdapter[Any], dict[str, Any]], ...] = (
        ("schedules", _SCHEDULE, schedules), ("nodes", _NODE, nodes))
    for section, adapter, valid in parts:
        raw_section = data.get(section)
        if not isinstance(raw_section, dict):
            continue
        for name, raw in raw_section.items():
            model = _each(data, (section, name), raw, adapter, problems)
            if model is None:
                broken.add(name)
            else:
                valid[name] = model
    problems = _dedupe(problems)
    if settings is not None and isinstance(data.get("nodes"), dict):
        partial = MenuFile.model_construct(settings=settings, schedules=schedules, nodes=nodes,
                                           wording=wording)
        problems += check_menu(partial, broken)
    return None, problems


def _each(
    data: dict[str, object],
    prefix: tuple[str, ...],
    raw: object,
    adapter: TypeAdapter[Any],
    problems: list[PathProblem],
) -> Any:
    """Validates one part; on errors, reports them and retries without the offending fields so
    the rest of the part can still be checked against the rest of the file."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        errors = exc.errors()
    problems += [_problem(data, e, prefix) for e in errors]
    pruned = copy.deepcopy(raw)
    # A removed field can leave its container incomplete: then the container goes too.
    for _ in range(4):
        paths = sorted({_resolve(pruned, e["loc"])[0] for e in errors}, reverse=True)
        if () in paths:
            return None
        for path in paths:
            _delete(pruned, path)
        try:
            return adapter.validate_python(pruned)
        except ValidationError as exc:
            errors = exc.errors()
    return None


def _delete(data: object, path: YamlPath) -> None:
    *parents, last = path
    for part in parents:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return
    if isinstance(data, dict):
        data.pop(last, None)
    elif isinstance(data, list) and isinstance(last, int) and last < len(data):
        del data[last]


def load_menu(path: str | Path, display_name: str | None = None) -> Menu:
    name = display_name or str(path)
    try:
        with Path(path).open("rb") as file:
            # One byte more than allowed is enough to refuse, whatever the file's size.
            data = file.read(MAX_MENU_BYTES + 1)
        if len(data) > MAX_MENU_BYTES:  # before decoding: the cut may split a character
            raise MenuError([_too_large(name)])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MenuError([Problem(name, 1, f"cannot read the file: {exc}")]) from None
    return parse_menu(text, name)


def _too_large(filename: str) -> Problem:
    return Problem(filename, 1, f"the file is larger than {MAX_MENU_BYTES // 1024} KiB; a menu"
                                " is far smaller")


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
        if loc[:1] == ("wording",):
            return path, (f"unknown sentence '{loc[-1]}' (flask --app app menus wording lists"
                          " them)")
        return path, f"unknown field '{loc[-1]}'"
    if error["type"] == "missing":
        return path, f"{'.'.join(map(str, path)) or 'file'}: missing field '{loc[-1]}'"
    return path, f"{where}: {message}" if where else message


def _resolve(data: object, loc: tuple[int | str, ...]) -> tuple[YamlPath, str]:
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
    seen: set[YamlPath] = set()
    result = []
    for path, message in problems:
        if path in seen:
            continue
        seen.add(path)
        result.append((path, message))
    return result
