"""Checks across the whole file: references, keys, reachability and endless paths.

Each problem is returned with the YAML path it belongs to; the loader turns paths into lines.
"""

from __future__ import annotations

from collections.abc import Iterator

import holidays as holidays_lib

from ivr.menu.placeholders import LineValues, fill, line_values, map_texts, problems_in
from ivr.menu.prompts import named_keys, plays_audio, prompt_parts
from ivr.menu.schema import (
    MenuFile,
    MenuNode,
    OuvidoriaNode,
    SurveyNode,
    TransferNode,
)
from ivr.menu.yamlsource import YamlPath
from ivr.speech.words import key_words

PathProblem = tuple[YamlPath, str]

OPTION_KEYS = set("0123456789")


def check_menu(menu: MenuFile, broken: set[str] | None = None) -> list[PathProblem]:
    """``broken``: nodes that exist but failed validation (already reported on their own)."""
    broken = broken or set()
    problems: list[PathProblem] = []
    problems += _check_references(menu, broken)
    problems += _check_keys(menu)
    problems += _check_synonyms(menu)
    if not problems and not broken:
        # Graph checks only make sense once every reference resolves.
        problems += _check_reachable(menu)
        problems += _check_endless(menu)
    values = line_values(menu, hours="" if menu.schedules else None)
    # A prompt's keys are read once its placeholders are known to be good.
    problems += _check_built(menu)
    return problems + (_check_texts(menu, values) or _check_prompts(menu, values))


def _refs(menu: MenuFile) -> Iterator[tuple[YamlPath, str]]:
    """Every place the file names a node, with the path of that mention."""
    settings = menu.settings
    yield ("settings", "main_menu"), settings.main_menu
    if settings.retries.give_up_node:
        yield ("settings", "retries", "give_up_node"), settings.retries.give_up_node
    for area, team in settings.teams.items():
        yield ("settings", "teams", area), team
    if settings.survey:
        yield ("settings", "survey"), settings.survey
    for name, node in menu.nodes.items():
        for way in node.exits():
            yield ("nodes", name, *way.field), way.target


def _check_references(menu: MenuFile, broken: set[str]) -> list[PathProblem]:
    problems: list[PathProblem] = []
    for path, target in _refs(menu):
        if target not in menu.nodes and target not in broken:
            problems.append((path, f"'{target}' is not a node of this file"))
    main = menu.nodes.get(menu.settings.main_menu)
    if main is not None and not isinstance(main, MenuNode):
        problems.append((("settings", "main_menu"), f"'{menu.settings.main_menu}' is not a menu"))
    for area, name in menu.settings.teams.items():
        if name in menu.nodes and not isinstance(menu.nodes[name], TransferNode):
            problems.append((("settings", "teams", area), f"'{name}' is not a transfer node"))
    give_up = menu.settings.retries.give_up_node
    if give_up in menu.nodes and not isinstance(menu.nodes[give_up], TransferNode):
        problems.append(
            (("settings", "retries", "give_up_node"), f"'{give_up}' must be a transfer to a person")
        )
    survey = menu.settings.survey
    if survey in menu.nodes and not isinstance(menu.nodes[survey], SurveyNode):
        problems.append((("settings", "survey"), f"'{survey}' is not a survey node"))
    for name, node in menu.nodes.items():
        if isinstance(node, TransferNode | OuvidoriaNode) and node.schedule \
                and node.schedule not in menu.schedules and node.schedule not in broken:
            problems.append((("nodes", name, "schedule"), f"unknown schedule '{node.schedule}'"))
    known_states = set(holidays_lib.country_holidays("BR").subdivisions)
    for name, schedule in menu.schedules.items():
        state = schedule.holidays.state
        if state and state not in known_states:
            problems.append(
                (("schedules", name, "holidays", "state"), f"'{state}' is not a Brazilian state")
            )
    return problems


def _check_keys(menu: MenuFile) -> list[PathProblem]:
    problems: list[PathProblem] = []
    settings = menu.settings
    for name, node in menu.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        base: YamlPath = ("nodes", name)
        if not node.options and not node.direct_entry:
            problems.append((base, "a menu needs at least one option or a direct entry"))
        for key in node.options:
            path = (*base, "options", key)
            if key == settings.repeat_key:
                problems.append((path, f"key '{key}' clashes with the repeat key"))
            elif key not in OPTION_KEYS:
                problems.append((path, f"key '{key}' is not a single digit 0-9"))
            elif name != settings.main_menu and key == settings.main_menu_key:
                problems.append(
                    (path, f"key '{key}' clashes with the key back to the main menu")
                )
        entry = node.direct_entry
        if entry and entry.digits < 2 and node.options:
            problems.append(
                ((*base, "direct_entry", "digits"),
                 "a 1-digit direct entry cannot be told apart from the single-key options")
            )
    return problems


def _check_synonyms(menu: MenuFile) -> list[PathProblem]:
    """A spoken word must name one thing in a menu (docs/rules.md#speech): not two options, not
    an option and the repeat or main-menu words. Compared as the matcher hears them (accents,
    case, plurals and filler words aside)."""
    problems: list[PathProblem] = []
    speech = menu.settings.speech
    commands = {key_words(said): "the repeat words" for said in speech.repeat}
    commands |= {key_words(said): "the main-menu words" for said in speech.main_menu}
    for name, node in menu.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        owners: dict[tuple[str, ...], str] = dict(commands)
        for key, option in node.options.items():
            for index, synonym in enumerate(option.synonyms):
                path: YamlPath = ("nodes", name, "options", key, "synonyms", index)
                words = key_words(synonym)
                owner = owners.setdefault(words, f"option {key}")
                if not words:
                    problems.append((path, f"synonym '{synonym}' has only words said around a "
                                           "request (o, de, quero...): it can never match"))
                elif owner != f"option {key}":
                    problems.append((path, f"synonym '{synonym}' of option {key} is also said "
                                           f"for {owner} of this menu"))
    return problems


def _check_texts(menu: MenuFile, values: LineValues) -> list[PathProblem]:
    """Every placeholder of every text is one the text may name, with a value in this file."""
    problems: list[PathProblem] = []
    # A default sentence naming a value this line lacks is not said; the admin's own is wrong.
    defaults = {("wording", name) for name in type(menu.wording).model_fields} - {
        ("wording", name) for name in menu.wording.model_fields_set}

    def check(path: YamlPath, text: str, fields: tuple[str, ...]) -> str:
        if path not in defaults:
            problems.extend((path, message) for message in problems_in(text, fields, values))
        return text

    map_texts(menu, check)
    return problems


def _check_built(menu: MenuFile) -> list[PathProblem]:
    """A menu without a prompt has what its built prompt needs; an intro goes only there."""
    problems: list[PathProblem] = []
    for name, node in menu.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        base: YamlPath = ("nodes", name)
        if node.prompt is None:
            problems += [((*base, "options", key),
                          f"option {key} has no label: give it one (label: ...), or write the"
                          " menu's prompt")
                         for key, option in node.options.items() if option.label is None]
            if node.direct_entry and not node.intro:
                problems.append((base, "a menu with a direct entry and no prompt needs an intro"
                                       " telling callers what to key"))
        elif node.intro is not None:
            problems.append(((*base, "intro"), "the intro is said only in a prompt built from"
                                               " the labels: drop it or drop the prompt"))
    return problems


def _check_prompts(menu: MenuFile, values: LineValues) -> list[PathProblem]:
    """A prompt written whole names exactly the keys its menu has (docs/rules.md#wording)."""
    problems: list[PathProblem] = []
    settings = menu.settings
    for name, node in menu.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        known = {*node.options, settings.repeat_key}
        if name != settings.main_menu:
            known.add(settings.main_menu_key)
        if node.direct_entry:
            known.add("#")  # ends the number
        # Only options that are keys at all (the others are reported on their own).
        clashing = {settings.repeat_key} | (
            {settings.main_menu_key} if name != settings.main_menu else set())
        options = [key for key in node.options if key in OPTION_KEYS and key not in clashing]
        for field in ("prompt", "short_prompt"):
            prompt = getattr(node, field)
            if prompt is None:
                continue
            path: YamlPath = ("nodes", name, field)
            named: set[str] = set()
            for part_path, text in prompt_parts(path, prompt):
                keys = named_keys(fill(text, (), values))
                named |= keys.keys()
                problems += [(part_path, f"the {field} says '{words}', but this menu has no"
                                         f" key {key}")
                             for key, words in keys.items() if key not in known]
            if not plays_audio(prompt):  # a recording may name the rest
                problems += [(path, f"the {field} never names option {key}"
                                    f" ({node.options[key].goto})")
                             for key in options if key not in named]
    return problems


def _edges(menu: MenuFile, name: str) -> list[str]:
    node = menu.nodes[name]
    targets = [way.target for way in node.exits()]
    if isinstance(node, MenuNode) and name != menu.settings.main_menu:
        targets.append(menu.settings.main_menu)  # the main-menu key
    return targets


def _check_reachable(menu: MenuFile) -> list[PathProblem]:
    roots = [menu.settings.main_menu, *menu.settings.teams.values()]
    if menu.settings.survey:
        roots.append(menu.settings.survey)
    if menu.settings.retries.give_up_node:
        roots.append(menu.settings.retries.give_up_node)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(_edges(menu, name))
    return [(("nodes", name), f"node '{name}' cannot be reached from the main menu")
            for name in menu.nodes if name not in seen]


def _automatic_edges(menu: MenuFile, name: str) -> list[str]:
    """Moves that happen without the caller pressing anything."""
    return [way.target for way in menu.nodes[name].exits() if way.automatic]


def _check_endless(menu: MenuFile) -> list[PathProblem]:
    """A cycle of messages and transfer fallbacks would keep a caller forever."""
    problems: list[PathProblem] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        trail.append(name)
        for target in _automatic_edges(menu, name):
            if state.get(target) == 1:
                cycle = trail[trail.index(target):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    loop = " -> ".join([*cycle, target])
                    problems.append(
                        (("nodes", target),
                         f"a path that never ends: {loop} (no menu or hang-up on the way)")
                    )
            elif target not in state:
                visit(target, trail)
        trail.pop()
        state[name] = 2

    for name in menu.nodes:
        if name not in state:
            visit(name, [])
    return problems
