"""Menu prompts: built from the options' labels when a menu has no prompt of its own, and the keys
a hand-written prompt names, for ``menus check`` (``docs/rules.md#wording``)."""

from __future__ import annotations

import re

from ivr.menu.placeholders import spoken_key
from ivr.menu.schema import MenuFile, MenuNode, Play, Prompt, Say
from ivr.menu.wording import Wording
from ivr.menu.yamlsource import YamlPath

_KEY_WORDS = {
    "zero": "0", "um": "1", "dois": "2", "três": "3", "tres": "3", "quatro": "4", "cinco": "5",
    "seis": "6", "sete": "7", "oito": "8", "nove": "9", "asterisco": "*", "estrela": "*",
    "jogo da velha": "#", "cerquilha": "#", "sustenido": "#",
}
# "tecle 7", "digite a tecla 7", "pressione asterisco"; not "digite os oito dígitos".
_NAMED_KEY = re.compile(
    r"\b(?:tecle|digite|pressione|aperte|disque)\s+(?:a\s+tecla\s+)?"
    r"(?P<key>[0-9*#]|" + "|".join(sorted(_KEY_WORDS, key=len, reverse=True)) + r")"
    r"(?![\w*#])(?!\s+d[ií]gitos?\b)",
    re.IGNORECASE,
)


def named_keys(text: str) -> dict[str, str]:
    """Each key the text tells callers to press, with the words that name it."""
    found: dict[str, str] = {}
    for match in _NAMED_KEY.finditer(text):
        word = match["key"].lower()
        found.setdefault(_KEY_WORDS.get(word, word), match[0])
    return found


def prompt_parts(path: YamlPath, prompt: Prompt) -> list[tuple[YamlPath, str]]:
    """The prompt's texts, each with its place in the file."""
    if not isinstance(prompt, list):
        return [] if isinstance(prompt, Play) else [(path, _text(prompt))]
    return [((*path, index), _text(part)) for index, part in enumerate(prompt)
            if not isinstance(part, Play)]


def plays_audio(prompt: Prompt) -> bool:
    """Whether the prompt plays a recording (which may name keys too)."""
    parts = prompt if isinstance(prompt, list) else [prompt]
    return any(isinstance(part, Play) for part in parts)


def _text(part: str | Say) -> str:
    return part.say if isinstance(part, Say) else part


def build_prompts(spec: MenuFile) -> MenuFile:
    """``spec`` (its texts filled) with every menu's missing prompt and short prompt built."""
    nodes = dict(spec.nodes)
    for name, node in spec.nodes.items():
        if not isinstance(node, MenuNode) or (node.prompt and node.short_prompt):
            continue
        if any(option.label is None for option in node.options.values()):
            continue  # a hand-written prompt (checked): the short one falls back to it
        lines = _option_lines(node, spec.wording, name == spec.settings.main_menu)
        full = _join(node.intro, *lines, spec.wording.menu_repeat)
        short = _join(*lines) if node.options else full
        nodes[name] = node.model_copy(update={"prompt": node.prompt or full,
                                              "short_prompt": node.short_prompt or short})
    return spec.model_copy(update={"nodes": nodes})


def _option_lines(node: MenuNode, wording: Wording, is_main: bool) -> list[str]:
    lines = [wording.menu_option.format(label=option.label, key=spoken_key(key))
             for key, option in node.options.items()]
    if not is_main:
        lines.append(wording.menu_back)
    return lines


def _join(*sentences: str | None) -> str:
    return " ".join(sentence for sentence in sentences if sentence)
