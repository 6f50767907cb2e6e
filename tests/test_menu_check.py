"""``flask menus check FILE`` and ``flask menus show``: the admin's tools for ``menus.yaml``.

Each bad file under ``tests/menus/`` marks where its problems are with end-of-line comments:

    some: line  # expect: text of the message

means "a problem reported at exactly this line, whose message contains the text";

    some: line  # expect-one: text

on several lines means "one problem, with that text, reported at any one of these lines" (a
loop can fairly be pinned on any node of it). Nothing else may be reported.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from ruamel.yaml import YAML

from app import create_app, shutdown

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "menus"
MARKER = re.compile(r"#\s*(expect|expect-one):\s*(.+?)\s*$")


@dataclass
class Expectations:
    exact: list[tuple[int, str]] = field(default_factory=list)
    groups: dict[str, set[int]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.exact) + len(self.groups)


def expectations(path: Path) -> Expectations:
    result = Expectations()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARKER.search(line)
        if not match:
            continue
        if match[1] == "expect":
            result.exact.append((number, match[2]))
        else:
            result.groups.setdefault(match[2], set()).add(number)
    assert result.count, f"{path.name} marks no expected problem"
    return result


@pytest.fixture(scope="module")
def cli_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("menus-cli")
    served = tmp / "served-menus.yaml"
    shutil.copy(ROOT / "menus.yaml", served)
    application = create_app({
        "DATABASE_URL": f"sqlite:///{tmp / 'unused.sqlite3'}",
        "TWILIO_AUTH_TOKEN": "x",
        "MENUS_FILE": served,
    })
    yield application
    shutdown(application)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["menus", *args])


def reported(output: str, name: str) -> list[tuple[int, str]]:
    pattern = re.compile(rf"^{re.escape(name)}:(\d+): (.+)$", re.MULTILINE)
    return [(int(m[1]), m[2]) for m in pattern.finditer(output)]


def assert_problems(result: Result, name: str, path: Path) -> None:
    output = result.output
    assert result.exit_code == 1, output
    expected = expectations(path)
    problems = reported(output, name)
    unmatched = list(problems)
    missing: list[str] = []
    lines = path.read_text().splitlines()
    for line, text in expected.exact:
        hits = [p for p in unmatched if p[0] == line and text in p[1]]
        if hits:
            unmatched.remove(hits[0])
        else:
            missing.append(f"{name}:{line}: ...{text}...   (line {line}: "
                           f"{lines[line - 1].split('#')[0].strip()!r})")
    for text, group in expected.groups.items():
        hits = [p for p in unmatched if p[0] in group and text in p[1]]
        if len(hits) == 1:
            unmatched.remove(hits[0])
        else:
            missing.append(f"one '{text}' at one of lines {sorted(group)}")
    assert not missing, "not reported:\n  " + "\n  ".join(missing) + f"\nreport:\n{output}"
    assert not unmatched, f"problems reported that are not there: {unmatched}\n{output}"
    # Every line of the report names the file as given.
    for reported_line in output.strip().splitlines()[:-1]:
        assert reported_line.startswith(f"{name}:"), output
    assert output.strip().splitlines()[-1] == f"{len(problems)} problem(s) found."


# -- the shipped file --------------------------------------------------------------------------


def test_the_shipped_menu_checks_clean_with_a_summary(cli_app: Flask) -> None:
    name = str(ROOT / "menus.yaml")
    result = run(cli_app, "check", name)
    assert result.exit_code == 0, result.output
    output = result.output.strip()
    assert output.startswith(f"{name}: OK, version 1+")
    nodes = YAML(typ="safe").load((ROOT / "menus.yaml").read_text())["nodes"]
    kinds = Counter(node["type"] for node in nodes.values())
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    assert f"{len(nodes)} nodes ({summary})" in output
    assert "1 schedule(s)" in output
    assert len(output.splitlines()) == 1


def test_check_without_a_file_checks_the_served_menu(cli_app: Flask) -> None:
    result = run(cli_app, "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{cli_app.config['MENUS_FILE']}: OK")


def test_the_base_of_the_bad_files_is_itself_good(cli_app: Flask, tmp_path: Path) -> None:
    # The bad files are small variations of this one: it must pass for their failures to mean
    # anything.
    good = tmp_path / "good.yaml"
    text = (BAD / "bad_state.yaml").read_text()
    good.write_text(re.sub(r"state: XX.*", "state: SP", text))
    result = run(cli_app, "check", str(good))
    assert result.exit_code == 0, result.output


def test_wording_lists_every_sentence_as_the_served_menu_says_it(cli_app: Flask,
                                                                  tmp_path: Path) -> None:
    result = run(cli_app, "wording")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "login_registration_help: Se precisar de ajuda com o seu cadastro, ligue para " \
           "4003-0015 e tecle 7." in lines
    assert "closed_hours: Nosso atendimento funciona {hours}." in lines
    edited = tmp_path / "edited.yaml"
    edited.write_text((ROOT / "menus.yaml").read_text().replace(
        '  main_menu_key: "0"', '  main_menu_key: "8"'))
    result = run(cli_app, "wording", str(edited))
    assert "menu_back: Para voltar ao menu principal, tecle 8." in result.output.splitlines()


# -- one kind of problem per file --------------------------------------------------------------

KINDS = [
    pytest.param("invalid_yaml.yaml", id="invalid-yaml-colon-in-plain-text"),
    pytest.param("invalid_yaml_indent.yaml", id="invalid-yaml-indentation"),
    pytest.param("unknown_field.yaml", id="misspelt-node-fields"),
    pytest.param("unknown_setting.yaml", id="misspelt-setting"),
    pytest.param("missing_field.yaml", id="missing-field"),
    pytest.param("missing_node.yaml", id="option-and-fallback-to-missing-node"),
    pytest.param("duplicate_key.yaml", id="duplicate-option-key"),
    pytest.param("duplicate_node.yaml", id="duplicate-node"),
    pytest.param("key_not_a_digit.yaml", id="keys-outside-0-9"),
    pytest.param("key_repeat.yaml", id="key-clashes-with-repeat"),
    pytest.param("key_main_menu.yaml", id="key-clashes-with-main-menu-key"),
    pytest.param("direct_entry_ambiguous.yaml", id="one-digit-direct-entry"),
    pytest.param("unreachable.yaml", id="unreachable-node"),
    pytest.param("message_loop.yaml", id="message-loop"),
    pytest.param("transfer_loop.yaml", id="transfer-fallback-loop"),
    pytest.param("bad_number.yaml", id="non-e164-numbers"),
    pytest.param("bad_time.yaml", id="bad-times"),
    pytest.param("bad_state.yaml", id="unknown-state"),
    pytest.param("unknown_schedule.yaml", id="unknown-schedule"),
    pytest.param("prompt_keys.yaml", id="prompt-names-keys-the-menu-lacks-and-misses-one"),
    pytest.param("prompt_moved_key.yaml", id="option-moved-prompt-left-behind"),
    pytest.param("built_prompt.yaml", id="built-prompt-needs-labels-and-intro"),
    pytest.param("placeholders.yaml", id="unknown-unfilled-or-malformed-placeholders"),
    pytest.param("synonym_clash.yaml", id="synonym-of-two-options-of-one-menu"),
]


@pytest.mark.parametrize("filename", KINDS)
def test_each_kind_of_problem_is_reported_at_its_line(cli_app: Flask, filename: str) -> None:
    path = BAD / filename
    name = str(path)
    assert_problems(run(cli_app, "check", name), name, path)


def test_all_problems_of_a_file_are_reported(cli_app: Flask) -> None:
    path = BAD / "many_problems.yaml"
    assert expectations(path).count >= 8
    assert_problems(run(cli_app, "check", str(path)), str(path), path)


# -- the file name as given --------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["missing_node.yaml", "./missing_node.yaml",
                                      "../menus/missing_node.yaml"])
def test_the_file_is_named_as_given(cli_app: Flask, spelling: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = run(cli_app, "check", spelling)
    assert_problems(result, spelling, BAD / "missing_node.yaml")


def test_a_missing_file_is_a_problem_not_a_crash(cli_app: Flask, tmp_path: Path) -> None:
    name = str(tmp_path / "nowhere.yaml")
    result = run(cli_app, "check", name)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert re.search(rf"^{re.escape(name)}:1: cannot read the file", result.output, re.M)


def test_an_empty_file_is_a_problem(cli_app: Flask, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    result = run(cli_app, "check", str(empty))
    assert result.exit_code == 1
    assert f"{empty}:1: the file is empty" in result.output


def test_an_alias_bomb_is_refused_quickly_without_expanding_it(
    cli_app: Flask, tmp_path: Path
) -> None:
    from tests.test_hot_reload import ALIAS_BOMB

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    started = time.monotonic()
    result = run(cli_app, "check", str(bomb))
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert f"{bomb}:1: the file expands to more than 20000 values" in result.output


def test_the_real_command_line(tmp_path: Path) -> None:
    """``flask --app app menus check`` as an admin types it, relative path and all."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "TWILIO_AUTH_TOKEN": "x", "MENUS_FILE": str(ROOT / "menus.yaml")}
    flask = [sys.executable, "-m", "flask", "--app", "app", "menus", "check"]
    bad = subprocess.run([*flask, "tests/menus/duplicate_key.yaml"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stderr
    assert "tests/menus/duplicate_key.yaml:12: duplicate key '1' (first at line 11)" in bad.stderr
    good = subprocess.run([*flask, "menus.yaml"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("menus.yaml: OK, version 1+")


# -- menus show --------------------------------------------------------------------------------


def test_show_prints_the_tree_with_the_team_chain(cli_app: Flask) -> None:
    result = run(cli_app, "show", str(ROOT / "menus.yaml"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    chain = [("", "principal"), ("2", "suporte"), ("2", "linha_rm"), ("3", "educacao"),
             ("9", "ofertas"), ("9", "oferta_p")]
    index = -1
    for depth, (key, name) in enumerate(chain):
        label = f"{'  ' * depth}{key + ' → ' if key else ''}{name}"
        found = next(i for i, line in enumerate(lines) if i > index and line.startswith(label))
        assert found > index
        index = found
    leaves = {"1": ("educacional", "+5511900000001"), "2": ("gestao_financeira", "+5511900000002"),
              "3": ("nfe", "+5511900000003")}
    pad = "  " * len(chain)
    for key, (name, number) in leaves.items():
        line = next(line for line in lines if line.startswith(f"{pad}{key} → {name}"))
        assert "[login]" in line and number in line
    seven = next(line for line in lines if line.startswith("  7 → cadastro"))
    assert "[login]" not in seven and "+5511900000007" in seven
    assert any("8 digits → consulta_chamado" in line for line in lines)
    assert any(line.startswith("atendente") for line in lines)  # reached only by giving up


def test_show_lists_what_a_caller_may_say_for_each_option(cli_app: Flask) -> None:
    result = run(cli_app, "show", str(ROOT / "menus.yaml"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("speech on")
    line = next(line for line in lines if line.strip().startswith("2 → gestao_financeira"))
    assert '(or say "financeiro", "gestão financeira", "boleto"' in line


def test_show_of_a_bad_file_lists_its_problems(cli_app: Flask) -> None:
    name = str(BAD / "duplicate_key.yaml")
    result = run(cli_app, "show", name)
    assert result.exit_code == 1
    assert f"{name}:12: duplicate key '1'" in result.output


def test_a_file_too_large_is_refused_as_such_even_cut_inside_a_character(tmp_path: Path) -> None:
    from ivr.menu.loader import MAX_MENU_BYTES, MenuError, load_menu

    big = tmp_path / "big.yaml"
    # "é" is two bytes in UTF-8: reading up to the limit cuts one in half.
    big.write_bytes("é".encode() * (MAX_MENU_BYTES // 2 + 1))
    with pytest.raises(MenuError) as refused:
        load_menu(big)
    assert [str(p) for p in refused.value.problems] == [
        f"{big}:1: the file is larger than 256 KiB; a menu is far smaller"]
