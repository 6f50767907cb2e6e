"""``menus.yaml``: parsing with line numbers, the schema, cross-checks and loading."""

from ivr.menu.loader import Menu, MenuError, Problem, load_menu, parse_menu

__all__ = ["Menu", "MenuError", "Problem", "load_menu", "parse_menu"]
