"""Placeholders in the menu's texts (``{main_menu_key}``...): which a text may name, and their
values filled in once, when the menu is loaded (``docs/rules.md#wording``).

Every text an admin writes goes through here: the ``wording:`` sentences, the settings' sentences
and the nodes' prompts, labels and says. Call-time placeholders (a caller's name, a date) are
kept for the code that says the sentence to fill with ``str.format``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from string import Formatter

from ivr.menu.schema import (
    MenuFile,
    MenuNode,
    MessageNode,
    Node,
    Option,
    Play,
    Prompt,
    PromptPart,
    Say,
    TransferNode,
    VoicemailNode,
)
from ivr.menu.wording import Wording, call_fields
from ivr.menu.yamlsource import YamlPath

LINE_PLACEHOLDERS = ("main_menu_key", "repeat_key", "registration_key", "hours", "portal")
_SPOKEN_KEYS = {"*": "asterisco", "#": "jogo da velha"}
_UNAVAILABLE = {
    "registration_key": "no option of the main menu goes to the registration team "
                        "(settings.teams.cadastro)",
    "hours": "the file has no schedule",
}

# A text's place in the file, the text, and the call-time placeholders it may name.
TextFn = Callable[[YamlPath, str, tuple[str, ...]], str]


def spoken_key(key: str) -> str:
    """A key as a caller hears it named: "7", "asterisco"."""
    return _SPOKEN_KEYS.get(key, key)


@dataclass(frozen=True)
class LineValues:
    """The values of the line placeholders for one menu; None where the menu has none."""

    main_menu_key: str
    repeat_key: str
    registration_key: str | None
    hours: str | None
    portal: str

    def get(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


def line_values(spec: MenuFile, hours: str | None) -> LineValues:
    """``hours``: the first schedule's hours as said (the loader compiles schedules)."""
    settings = spec.settings
    registration = settings.teams.get("cadastro")
    main = spec.nodes.get(settings.main_menu)
    key = None
    if registration is not None and isinstance(main, MenuNode):
        key = next((k for k, option in main.options.items() if option.goto == registration),
                   None)
    return LineValues(
        main_menu_key=spoken_key(settings.main_menu_key),
        repeat_key=spoken_key(settings.repeat_key),
        registration_key=None if key is None else spoken_key(key),
        hours=hours,
        portal=settings.portal,
    )


def names_in(text: str) -> list[str]:
    """The placeholders ``text`` names; ValueError for a stray brace or a formatted one."""
    names = []
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        raise ValueError("a lone '{' or '}': write {{ or }} to say a brace") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"'{{{name}...}}' takes no format: write {{{name}}}")
        names.append(name)
    return names


def problems_in(text: str, fields: tuple[str, ...], values: LineValues) -> list[str]:
    try:
        names = names_in(text)
    except ValueError as exc:
        return [str(exc)]
    problems = []
    for name in names:
        if name in fields:
            continue
        if name not in LINE_PLACEHOLDERS:
            known = ", ".join(f"{{{n}}}" for n in sorted({*LINE_PLACEHOLDERS, *fields}))
            problems.append(f"unknown placeholder {{{name}}} (known here: {known})")
        elif values.get(name) is None:
            problems.append(f"{{{name}}} has no value: {_UNAVAILABLE[name]}")
    return problems


def fill(text: str, fields: tuple[str, ...], values: LineValues) -> str:
    """``text`` with the line placeholders' values; the call-time ones stay, braces escaped, for
    ``str.format``. Empty when a value is missing (a default sentence the line cannot say)."""
    parts = []
    template = bool(fields)
    for literal, name, _spec, _conversion in Formatter().parse(text):
        parts.append(_escape(literal) if template else literal)
        if name is None:
            continue
        if name in fields:
            parts.append(f"{{{name}}}")
            continue
        value = values.get(name)
        if value is None:
            return ""
        parts.append(_escape(value) if template else value)
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def map_texts(spec: MenuFile, fn: TextFn) -> MenuFile:
    """A copy of ``spec`` with every text an admin writes replaced by ``fn(path, text, fields)``."""
    settings = spec.settings
    retries = settings.retries.model_copy(update={
        name: fn(("settings", "retries", name), getattr(settings.retries, name), ())
        for name in ("invalid", "silence", "goodbye")})
    settings = settings.model_copy(update={
        "retries": retries,
        **{name: fn(("settings", name), getattr(settings, name), ())
           for name in ("apology", "menu_changed")}})
    wording = spec.wording.model_copy(update={
        name: fn(("wording", name), getattr(spec.wording, name), call_fields(name))
        for name in Wording.model_fields})
    nodes = {name: _node_texts(("nodes", name), node, fn) for name, node in spec.nodes.items()}
    return spec.model_copy(update={"settings": settings, "wording": wording, "nodes": nodes})


def _node_texts(base: YamlPath, node: Node, fn: TextFn) -> Node:
    update: dict[str, object] = {}
    if isinstance(node, MenuNode):
        for name in ("prompt", "short_prompt"):
            prompt = getattr(node, name)
            if prompt is not None:
                update[name] = _prompt_texts((*base, name), prompt, fn)
        if node.intro is not None:
            update["intro"] = fn((*base, "intro"), node.intro, ())
        update["options"] = {key: _option_texts((*base, "options", key), option, fn)
                             for key, option in node.options.items()}
    elif isinstance(node, TransferNode | MessageNode | VoicemailNode) and node.say is not None:
        update["say"] = _prompt_texts((*base, "say"), node.say, fn)
    if isinstance(node, VoicemailNode):
        update["thanks"] = fn((*base, "thanks"), node.thanks, ())
    return node.model_copy(update=update) if update else node


def _option_texts(path: YamlPath, option: Option, fn: TextFn) -> Option:
    if option.label is None:
        return option
    return option.model_copy(update={"label": fn((*path, "label"), option.label, ())})


def _prompt_texts(path: YamlPath, prompt: Prompt, fn: TextFn) -> Prompt:
    if isinstance(prompt, list):
        return [_part_texts((*path, index), part, fn) for index, part in enumerate(prompt)]
    return _part_texts(path, prompt, fn)


def _part_texts(path: YamlPath, part: PromptPart, fn: TextFn) -> PromptPart:
    if isinstance(part, Play):
        return part
    if isinstance(part, Say):
        return part.model_copy(update={"say": fn((*path, "say"), part.say, ())})
    return fn(path, part, ())
