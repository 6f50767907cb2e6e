"""``flask menus check|show``: the admin's tools for ``menus.yaml``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from database.flask_ext import get_db
from ivr.menu import Menu, MenuError, load_menu
from ivr.menu.schema import (
    MenuNode,
    MessageNode,
    OuvidoriaNode,
    SurveyNode,
    TicketStatusNode,
    TransferNode,
    VoicemailNode,
)
from ivr.replay import replay_calls

menus_cli = AppGroup("menus", help="Check, show or compare menu files.")


def _load_or_exit(file: str | None) -> tuple[Menu, str]:
    """The menu in FILE (default: the served one), or exit 1 listing FILE:LINE: problems."""
    path = file or str(current_app.config["MENUS_FILE"])
    try:
        return load_menu(path, display_name=path), path
    except MenuError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)


@menus_cli.command("check")
@click.argument("file", required=False)
def check(file: str | None) -> None:
    """Validate FILE (default: the served menu); exit 1 listing FILE:LINE: problems."""
    menu, path = _load_or_exit(file)
    nodes = menu.spec.nodes
    kinds: dict[str, int] = {}
    for node in nodes.values():
        kinds[node.type] = kinds.get(node.type, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    click.echo(f"{path}: OK, version {menu.version}: {len(nodes)} nodes ({summary}), "
               f"{len(menu.schedules)} schedule(s).")


@menus_cli.command("show")
@click.argument("file", required=False)
def show(file: str | None) -> None:
    """Print the tree of FILE (default: the served menu) as text."""
    menu, _ = _load_or_exit(file)
    for line in tree_lines(menu):
        click.echo(line)


@menus_cli.command("wording")
@click.argument("file", required=False)
def wording(file: str | None) -> None:
    """Print every sentence of FILE (default: the served menu) by name, as callers hear it;
    {name} marks a value known only during the call. Reword one in the wording: block."""
    menu, _ = _load_or_exit(file)
    for name, text in menu.wording.model_dump().items():
        click.echo(f"{name}: {text}")


@menus_cli.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--calls", "limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="How many of the last recorded calls to replay.")
def diff(old: str, new: str, limit: int) -> None:
    """Replay the last recorded calls through OLD and NEW: one line per call that would end
    elsewhere, CALL_SID: OLD_END -> NEW_END."""
    old_menu, _ = _load_or_exit(old)
    new_menu, _ = _load_or_exit(new)
    try:
        results = replay_calls(get_db(), old_menu, new_menu, limit)
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot read the recorded calls ({type(exc).__name__}): is the database up and "
            "migrated (flask db upgrade)?") from None
    moved = [result for result in results if result.differs]
    for result in moved:
        click.echo(result.line)
    click.echo(f"{len(results)} calls replayed, {len(moved)} would end elsewhere")


def tree_lines(menu: Menu) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    settings = menu.settings

    def walk(name: str, key: str, depth: int) -> None:
        node = menu.node(name)
        pad = "  " * depth
        label = f"{pad}{key + ' → ' if key else ''}{name}"
        if node is None:
            lines.append(f"{label} (missing)")
            return
        lock = " [login]" if node.auth else ""
        if name in seen:
            lines.append(f"{label}{lock} (see above)")
            return
        seen.add(name)
        if isinstance(node, MenuNode):
            entry = node.direct_entry
            extra = f", or {entry.digits} digits → {entry.goto}" if entry else ""
            lines.append(f"{label}{lock}: menu{extra}")
        elif isinstance(node, TransferNode):
            hours = f", hours {node.schedule}" if node.schedule else ""
            lines.append(f"{label}{lock}: transfer to {node.to}{hours}")
        elif isinstance(node, MessageNode):
            lines.append(f"{label}{lock}: message" + ("" if node.next else ", then hang up"))
        elif isinstance(node, VoicemailNode):
            lines.append(f"{label}{lock}: voicemail (up to {node.max_seconds}s)")
        elif isinstance(node, TicketStatusNode):
            lines.append(f"{label}{lock}: ticket status")
        elif isinstance(node, OuvidoriaNode):
            hours = f", hours {node.schedule}" if node.schedule else ""
            lines.append(f"{label}{lock}: ouvidoria, an earlier ticket, then {node.to}{hours}")
        elif isinstance(node, SurveyNode):
            lines.append(f"{label}{lock}: survey {node.lowest} to {node.highest}")
        for way in node.exits():
            first = len(lines)
            walk(way.target, f"if {way.label}" if way.kind == "fallback" else way.label, depth + 1)
            if way.kind == "key" and isinstance(node, MenuNode):
                # What a caller may say instead (docs/rules.md#speech).
                synonyms = node.options[way.label].synonyms
                if synonyms:
                    said = ", ".join(f'"{synonym}"' for synonym in synonyms)
                    lines[first] += f" (or say {said})"

    lines.append(f"menu version {menu.version}; '{settings.repeat_key}' repeats, "
                 f"'{settings.main_menu_key}' goes back to the main menu; speech "
                 + ("on" if settings.speech.enabled else "off"))
    walk(settings.main_menu, "", 0)
    for name in menu.spec.nodes:
        if name not in seen:
            walk(name, "", 0)
    return lines
