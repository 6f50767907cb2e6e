"""Which package may import which: read off the source, and seen in a fresh interpreter.

ivr (menus, calls, the provider) sits below auth and tickets and never imports them: what it
needs from them is registered by the app (``ivr.logins``) or announced to them
(``ivr.signals``). The dialogue modules are pure: no web framework, database or provider.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import in the file, ``importlib.import_module("x")``
    and ``__import__("x")`` with a literal name included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                yield node.lineno, first.value


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def imports_of(path: Path, packages: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: {module}"
            for line, module in imported_modules(path) if module.split(".")[0] in packages]


def test_ivr_imports_neither_auth_nor_tickets() -> None:
    files = sorted((ROOT / "ivr").rglob("*.py"))
    assert len(files) > 20  # the walk found the package
    above = {"auth", "tickets", "surveys", "ouvidoria"}
    assert [hit for path in files for hit in imports_of(path, above)] == []


def test_database_imports_nothing_of_the_app() -> None:
    """The SQLAlchemy base and connections sit below every package that has tables."""
    files = sorted((ROOT / "database").rglob("*.py"))
    assert len(files) >= 4
    app_packages = {"app", "config", "models", "ivr", "auth", "tickets", "importer"}
    assert [hit for path in files for hit in imports_of(path, app_packages)] == []


def test_telemetry_imports_nothing_of_the_app() -> None:
    """Metrics and logs sit below every package that counts or logs through them."""
    files = sorted((ROOT / "telemetry").rglob("*.py"))
    assert len(files) >= 4
    app_packages = {"app", "config", "models", "ivr", "auth", "tickets", "importer", "database"}
    assert [hit for path in files for hit in imports_of(path, app_packages)] == []


def test_the_privacy_rules_import_nothing_of_the_app() -> None:
    """Every package with personal data gives its rules in the shape ``privacy.rules`` sets."""
    app_packages = {"app", "config", "models", "ivr", "auth", "tickets", "importer", "database"}
    assert imports_of(ROOT / "privacy" / "rules.py", app_packages) == []


def test_loading_all_of_ivr_loads_neither_auth_nor_tickets() -> None:
    """The same, through whatever ivr imports in turn (in a fresh interpreter)."""
    probe = ("import importlib, pkgutil, sys, ivr\n"
             "for found in pkgutil.walk_packages(ivr.__path__, 'ivr.'):\n"
             "    importlib.import_module(found.name)\n"
             "print(sorted({m for m in sys.modules if m.split('.')[0] in {'auth', 'tickets'}}))")
    assert run_python(probe) == "[]"


def test_the_import_check_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "import auth\nimport os, tickets.flow as flow\nfrom auth.service import end_call\n"
        "from . import auth as sibling\nfrom .tickets import x\n"
        "import importlib\nimportlib.import_module('tickets.views')\n__import__('auth')\n"
        "def later():\n    from tickets import service\n",
        encoding="utf-8",
    )
    found = sorted(name for _, name in imported_modules(module))
    assert found == ["auth", "auth", "auth.service", "importlib", "os", "tickets",
                     "tickets.flow", "tickets.views"]


@pytest.mark.parametrize("module", ["auth.flow", "ivr.engine", "surveys.flow", "ouvidoria.flow",
                                    "tickets.reminder_flow"])
def test_dialogue_modules_load_no_framework_database_or_provider(module: str) -> None:
    """In a fresh interpreter, so modules other tests loaded do not hide an import."""
    probe = (f"import sys, {module}\n"
             "print(sorted({m.split('.')[0] for m in sys.modules}"
             " & {'flask', 'werkzeug', 'sqlalchemy', 'twilio', 'database'}))")
    assert run_python(probe) == "[]"
