"""What a caller can say at each menu of a loaded ``menus.yaml``, and how its ``<Gather>``
listens for it. Built once per menu file and node: a menu step only looks it up.

At the main menu a caller may also name an option of any menu below it ("financeiro" from the
main menu): that choice carries the path of menus down to it, which the engine walks with every
login and hours check of the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr.actions import Listen
from ivr.menu.loader import Menu
from ivr.menu.schema import MenuNode
from ivr.speech.digits import spoken_digits
from ivr.speech.heard import Heard
from ivr.speech.matching import Choice, Chosen, choice, decide

# speechTimeout: a menu answer is a few words, ended by the provider's end-of-speech detection;
# a number is read in groups off a document, with pauses that must not end it.
MENU_SPEECH_TIMEOUT = "auto"
NUMBER_SPEECH_TIMEOUT = "3"
# The provider's limits on hints: 500 entries of 100 characters.
MAX_HINTS = 500
MAX_HINT_CHARS = 100
JUMP = ">"  # a choice key starting with this names a node below the menu, not one of its keys
UNCLEAR = "?"  # what words that name no key amount to: an invalid key wherever they arrive

# A built-in dialogue's keys (the ticket menu...): key, how to offer it, what a caller may say.
Words = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Option:
    """One option of a menu as speech sees it: its key, and how to offer it back."""

    key: str
    goto: str
    name: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    choices: tuple[Choice, ...]
    # For a choice of a node below this menu: the nodes from here down to it.
    paths: dict[str, tuple[str, ...]]
    listen: Listen


def options_of(node: MenuNode) -> Iterator[Option]:
    for key, option in node.options.items():
        synonyms = tuple(option.synonyms)
        # Offered by the label's first part ("Gestão Financeira, como boletos..."), or the
        # first synonym, or the node it leads to.
        label = (option.label or "").split(",")[0].strip()
        name = label or (synonyms[0] if synonyms else option.goto)
        yield Option(key, option.goto, name, synonyms)


def vocabulary(menu: Menu, node_name: str) -> Vocabulary | None:
    """None when speech is off or the node is not a menu."""
    cached = _CACHE.get(id(menu))
    if cached is None or cached[0] is not menu:
        cached = (menu, _build(menu))
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()  # menus change only on reloads
        _CACHE[id(menu)] = cached
    return cached[1].get(node_name)


def dialogue_vocabulary(menu: Menu, words: Words) -> Vocabulary | None:
    """For a prompt of a built-in dialogue, whose keys are fixed in code; None when speech is
    off. With the repeat and main-menu words, like every menu."""
    if not menu.settings.speech.enabled:
        return None
    key = (id(menu), id(words))
    cached = _DIALOGUES.get(key)
    if cached is None or cached[0] is not menu:
        choices = [choice(k, name, said) for k, name, said in words]
        phrases = [s for _k, _name, said in words for s in said]
        for k, name, said in _commands(menu, main_menu=False):
            choices.append(choice(k, name, said))
            phrases += said
        listen = Listen(language=menu.settings.language, hints=hints(phrases),
                        timeout=MENU_SPEECH_TIMEOUT)
        if len(_DIALOGUES) >= _CACHE_MAX * 8:
            _DIALOGUES.clear()
        cached = _DIALOGUES[key] = (menu, Vocabulary(tuple(choices), {}, listen))
    return cached[1]


def key_said(vocabulary: Vocabulary, heard: Heard, min_confidence: float) -> str:
    """The key a spoken answer amounts to: the digits said, or the key of the option named;
    ``UNCLEAR`` when it names none, or two, or the provider was unsure of it."""
    digits = spoken_digits(heard.speech)
    if digits is not None:
        return digits
    decision = decide(vocabulary.choices, heard.speech, heard.confidence, min_confidence)
    return decision.choice.key if isinstance(decision, Chosen) else UNCLEAR


def number_listen(menu: Menu) -> Listen | None:
    """For a CPF or a ticket number, said digit by digit; None when speech is off."""
    if not menu.settings.speech.enabled:
        return None
    return Listen(language=menu.settings.language, timeout=NUMBER_SPEECH_TIMEOUT)


_CACHE: dict[int, tuple[Menu, dict[str, Vocabulary]]] = {}
_CACHE_MAX = 8
_DIALOGUES: dict[tuple[int, int], tuple[Menu, Vocabulary]] = {}


def _commands(menu: Menu, main_menu: bool) -> list[tuple[str, str, list[str]]]:
    """The repeat words everywhere; the main-menu words everywhere but the main menu."""
    settings = menu.settings
    commands: list[tuple[str, str, list[str]]] = [
        (settings.repeat_key, "ouvir de novo", settings.speech.repeat)]
    if not main_menu:
        commands.append((settings.main_menu_key, "o menu principal", settings.speech.main_menu))
    return commands


def _build(menu: Menu) -> dict[str, Vocabulary]:
    settings = menu.settings
    if not settings.speech.enabled:
        return {}
    result = {}
    for name, node in menu.spec.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        choices = [choice(o.key, o.name, o.synonyms) for o in options_of(node)]
        phrases = [s for o in options_of(node) for s in o.synonyms]
        paths: dict[str, tuple[str, ...]] = {}
        if name == settings.main_menu:
            for path, option in _below(menu, name):
                key = JUMP + option.goto
                choices.append(choice(key, option.name, option.synonyms))
                paths[key] = path
                phrases += option.synonyms
        for key, offered_as, said in _commands(menu, name == settings.main_menu):
            choices.append(choice(key, offered_as, said))
            phrases += said
        timeout = MENU_SPEECH_TIMEOUT if node.options else NUMBER_SPEECH_TIMEOUT
        listen = Listen(language=settings.language, hints=hints(phrases), timeout=timeout)
        result[name] = Vocabulary(tuple(c for c in choices if c.phrases), paths, listen)
    return result


def _below(menu: Menu, start: str) -> Iterator[tuple[tuple[str, ...], Option]]:
    """Options of the menus below ``start``, each with the path to the node it leads to,
    nearest first; a node already offered nearer is not offered again."""
    start_node = menu.node(start)
    assert isinstance(start_node, MenuNode)
    offered = {start} | {o.goto for o in options_of(start_node)}
    queue: list[tuple[tuple[str, ...], str]] = [((o.goto,), o.goto)
                                                for o in options_of(start_node)]
    while queue:
        path, name = queue.pop(0)
        node = menu.node(name)
        if not isinstance(node, MenuNode):
            continue
        for option in options_of(node):
            if option.goto in offered:
                continue
            offered.add(option.goto)
            below = (*path, option.goto)
            if option.synonyms:
                yield below, option
            queue.append((below, option.goto))


def hints(phrases: list[str]) -> str:
    """The phrases as the provider takes them: comma-separated, each within its limits."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        cleaned = " ".join(phrase.replace(",", " ").split())[:MAX_HINT_CHARS]
        if cleaned:
            seen.setdefault(cleaned)
    return ", ".join(list(seen)[:MAX_HINTS])
