"""Edited copies of the shipped ``menus.yaml`` for tests (ruamel round trip: comments and order
kept), as an admin would save them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent


def edited_menu(target: Path, change: Callable[[Any], None]) -> Path:
    yaml = YAML()
    data = yaml.load((ROOT / "menus.yaml").read_text(encoding="utf-8"))
    change(data)
    with target.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return target


def move_option(node: str, old: str, new: str) -> Callable[[Any], None]:
    """The option on key ``old`` of ``node`` moved to key ``new``, its wording too."""

    def change(data: Any) -> None:
        menu = data["nodes"][node]
        options = menu["options"]
        options[new] = options.pop(old)
        for field in ("prompt", "short_prompt"):
            if isinstance(menu.get(field), str):
                menu[field] = re.sub(rf"tecle {old}\b", f"tecle {new}", menu[field])

    return change


def remove_node(name: str, *, repoint: tuple[str, str, str]) -> Callable[[Any], None]:
    """Node ``name`` removed; ``repoint`` = (node, key, new target) for the option that led
    there, which also takes over any team the node was."""

    def change(data: Any) -> None:
        del data["nodes"][name]
        node, key, goto = repoint
        option = data["nodes"][node]["options"][key]
        if isinstance(option, str):
            data["nodes"][node]["options"][key] = goto
        else:
            option["goto"] = goto
        teams = data["settings"].get("teams", {})
        for area, team in list(teams.items()):
            if team == name:
                teams[area] = goto

    return change


def set_field(node: str, field: str, value: object) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        data["nodes"][node][field] = value

    return change
