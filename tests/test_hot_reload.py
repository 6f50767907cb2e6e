"""Editing ``menus.yaml`` while calls are served: a good edit is picked up without a restart, a bad
one is refused (``/healthz`` says why, as ``FILE:LINE: message``) and the last good menu keeps
answering. In-process with a 20 ms reload interval, then across two gunicorn workers."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from database.migrate import upgrade
from ivr import registry as registry_module
from ivr.menu import Menu
from ivr.registry import MenuRegistry
from tests.conftest import AUTH_TOKEN, ROOT, SignedClient, call_form
from tests.server import Gunicorn, ProviderClient
from tests.twiml import Doc

OLD_GREETING = "Olá, você ligou para o atendimento TOTVS."
NEW_GREETING = "Bem-vindo ao atendimento TOTVS, versão editada."
SID = "CA" + "7" * 32


def edit(path: Path, old: str, new: str) -> None:
    """Rewrite the file like an editor would, and make sure its mtime moves."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    before = path.stat().st_mtime_ns
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    bumped = max(before, path.stat().st_mtime_ns) + 2_000_000_000
    os.utime(path, ns=(bumped, bumped))


def greeting(signed: SignedClient, sid: str = SID) -> str:
    response = signed.post("/voice", call_form(sid))
    assert response.status_code == 200
    return Doc.parse(response.data).spoken()


def health(app: Flask) -> dict[str, Any]:  # the JSON /healthz answers
    response = app.test_client().get("/healthz")
    assert response.status_code == 200, response.data
    return response.get_json()


def settled(app: Flask, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The menu part of /healthz once ``ready`` holds: the watcher takes an interval or two."""
    deadline = time.monotonic() + 5
    while True:
        menu = health(app)["menu"]
        if ready(menu) or time.monotonic() > deadline:
            return menu
        time.sleep(0.01)


def test_a_good_edit_is_served_within_the_reload_interval(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    assert OLD_GREETING in greeting(signed)
    version = health(app)["menu"]["version"]
    edit(menus_file, OLD_GREETING, NEW_GREETING)
    menu = settled(app, lambda menu: menu["version"] != version)
    assert menu["version"] != version
    assert menu["refused_edit"] is None
    spoken = greeting(signed)
    assert NEW_GREETING in spoken and OLD_GREETING not in spoken


def test_a_bad_edit_is_refused_and_the_last_good_menu_keeps_serving(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    assert OLD_GREETING in greeting(signed)
    version = health(app)["menu"]["version"]
    text = menus_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    # A new prompt together with an option to a node that does not exist.
    option = lines.index('      "2": {label: a linha de produtos RM, goto: linha_rm}') + 1
    edit(menus_file, '      "2": {label: a linha de produtos RM, goto: linha_rm}\n',
         '      "2": {label: a linha de produtos RM, goto: linha_rm}\n'
         '      "5": {label: a ouvidoria, goto: ouvidoria}\n')
    edit(menus_file, OLD_GREETING, NEW_GREETING)
    # Either edit alone is refused for the same reason.
    menu = settled(app, lambda menu: menu["refused_edit"] is not None)
    spoken = greeting(signed)
    assert OLD_GREETING in spoken and NEW_GREETING not in spoken
    assert menu["version"] == version
    refused = menu["refused_edit"]
    assert refused is not None
    assert refused["problems"] == [
        f"{menus_file}:{option + 1}: 'ouvidoria' is not a node of this file"
    ]
    # Calls already walking the tree carry on with the old menu too.
    doc = Doc.parse(signed.post("/voice/step?s=principal.0.0..principal",
                                call_form(SID, Digits="7")).data)
    assert doc.dial_target() == "+5511900000007"

    # Fixing the file clears the refusal and serves the edit.
    edit(menus_file, '      "5": {label: a ouvidoria, goto: ouvidoria}\n', "")
    menu = settled(app, lambda menu: menu["version"] != version)
    assert menu["refused_edit"] is None
    assert menu["version"] != version
    assert NEW_GREETING in greeting(signed)


def test_invalid_yaml_is_refused_with_its_line(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    version = health(app)["menu"]["version"]
    text = menus_file.read_text(encoding="utf-8")
    line = text.splitlines().index("  suporte:") + 1
    edit(menus_file, "  suporte:\n    type: menu\n", "  suporte:\n    type: menu: quebrado\n")
    refused = settled(app, lambda menu: menu["refused_edit"] is not None)["refused_edit"]
    assert OLD_GREETING in greeting(signed)
    assert refused is not None
    assert len(refused["problems"]) == 1
    assert refused["problems"][0].startswith(f"{menus_file}:{line + 1}: invalid YAML")
    assert health(app)["menu"]["version"] == version
    # The same bad file is not parsed again and again, and stays reported.
    time.sleep(0.1)  # five reload intervals
    assert health(app)["menu"]["refused_edit"]["at"] == refused["at"]


def test_a_deleted_file_keeps_the_last_good_menu(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    version = health(app)["menu"]["version"]
    menus_file.unlink()
    menu = settled(app, lambda menu: menu["refused_edit"] is not None)
    assert OLD_GREETING in greeting(signed)
    assert menu["version"] == version
    assert menu["refused_edit"] is not None
    assert f"{menus_file}:1: cannot read the file" in menu["refused_edit"]["problems"][0]


def test_a_call_whose_node_vanished_hears_an_apology_and_the_main_menu(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    doc = Doc.parse(signed.post("/voice", call_form(SID)).data)
    doc = Doc.parse(signed.post(doc.next_url(), call_form(SID, Digits="2")).data)
    at_suporte = doc.next_url()
    assert at_suporte.startswith("/voice/step?s=suporte.")
    # The admin folds 'suporte' away: 2 now goes straight to the RM line.
    text = menus_file.read_text(encoding="utf-8")
    start = text.index("  suporte:\n")
    end = text.index("  linha_rm:\n")
    menus_file.write_text(text[:start] + text[end:], encoding="utf-8")
    version = health(app)["menu"]["version"]
    edit(menus_file, '        goto: suporte\n', '        goto: linha_rm\n')
    menu = settled(app, lambda menu: menu["version"] != version and menu["refused_edit"] is None)
    assert menu["refused_edit"] is None and menu["version"] != version
    doc = Doc.parse(signed.post(at_suporte, call_form(SID, Digits="2")).data)
    spoken = doc.spoken()
    assert spoken.startswith("Desculpe, nosso menu foi atualizado. Vamos recomeçar.")
    assert "tecle 7" in spoken
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")
    # And the new tree is what the caller walks from there.
    doc = Doc.parse(signed.post(doc.next_url(), call_form(SID, Digits="2")).data)
    assert doc.gather.attrib["action"].startswith("/voice/step?s=linha_rm.")


def test_a_dial_result_for_a_vanished_transfer_restarts(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    doc = Doc.parse(signed.post("/voice/step?s=principal.0.0..principal",
                                call_form(SID, Digits="7")).data)
    dialed = doc.next_url()
    assert dialed.startswith("/voice/dialed?s=cadastro.")
    edit(menus_file, "  cadastro:                    # option 7", "  cadastro_novo:  # option 7")
    edit(menus_file, '        goto: cadastro\n', '        goto: cadastro_novo\n')
    version = health(app)["menu"]["version"]
    edit(menus_file, "    cadastro: cadastro\n", "    cadastro: cadastro_novo\n")
    menu = settled(app, lambda menu: menu["version"] != version and menu["refused_edit"] is None)
    assert menu["refused_edit"] is None and menu["version"] != version
    doc = Doc.parse(signed.post(dialed, call_form(SID, DialCallStatus="busy")).data)
    assert "menu foi atualizado" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")


# -- two gunicorn workers ----------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Gunicorn, Path]]:
    menus = tmp_path / "menus.yaml"
    shutil.copy(ROOT / "menus.yaml", menus)
    url = f"sqlite:///{tmp_path / 'reload.sqlite3'}"
    upgrade(url)
    server = Gunicorn({
        "MENU_RELOAD_SECONDS": "0.2",
        "MENUS_FILE": str(menus),
        "DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_FROZEN_TIME": "2026-12-01T10:00:00-03:00",
        "E2E_LOG": str(tmp_path / "gunicorn.log"),
    }, workers=2)
    server.start()
    try:
        yield server, menus
    finally:
        server.stop()


def test_every_worker_serves_the_edit_within_seconds(served: tuple[Gunicorn, Path]) -> None:
    server, menus = served
    phone = ProviderClient(server.base, AUTH_TOKEN)

    def call(n: int) -> str:
        response = phone.post("/voice", call_form(f"CA{n:032d}"))
        assert response.status == 200, response.body
        return response.doc.spoken()

    def batch(rounds: int = 24) -> tuple[list[str], set[str]]:
        """Greetings heard and the distinct workers (told apart by their menu load time)."""
        def one(n: int) -> tuple[str, str]:
            spoken = call(n)
            loaded = server.get("/healthz")
            assert loaded.status == 200
            return spoken, json.loads(loaded.body)["menu"]["loaded_at"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, range(rounds)))
        return [s for s, _ in results], {w for _, w in results}

    def across_both_workers(check: Callable[[str], bool]) -> int:
        """Batches of concurrent calls until both workers answered; every greeting checked."""
        workers: set[str] = set()
        heard = 0
        for _ in range(20):
            greetings, seen = batch()
            bad = [g for g in greetings if not check(g)]
            assert not bad, bad[:2]
            heard += len(greetings)
            workers |= seen
            if len(workers) >= 2:
                return heard
            time.sleep(0.25)  # the second worker may still be starting
        raise AssertionError(f"only one worker ever answered: {workers}")

    across_both_workers(lambda g: OLD_GREETING in g)

    edit(menus, OLD_GREETING, NEW_GREETING)
    time.sleep(1.0)  # five reload intervals
    assert across_both_workers(lambda g: NEW_GREETING in g and OLD_GREETING not in g) >= 24

    # A bad edit is refused by every worker; the good menu keeps serving everywhere.
    edit(menus, '        goto: cadastro\n', '        goto: cadastro\n      "7": atendente\n')
    time.sleep(1.0)
    across_both_workers(lambda g: NEW_GREETING in g)
    for _ in range(10):
        body = json.loads(server.get("/healthz").body)
        problems = body["menu"]["refused_edit"]["problems"]
        assert len(problems) == 1 and "duplicate key '7'" in problems[0]
        assert problems[0].startswith(f"{menus}:")


ALIAS_BOMB = "".join(
    [f'l0: &l0 ["{"x" * 10}"{", x" * 9}]\n']
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 10)])


def test_an_alias_bomb_saved_as_the_menu_is_refused_while_calls_go_on(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    """Ten lines that expand to ten billion values: refused by the watcher, never expanded in
    a request, and the caller hears the last good menu at once."""
    menus_file.write_text(ALIAS_BOMB, encoding="utf-8")
    started = time.monotonic()
    menu = settled(app, lambda menu: menu["refused_edit"] is not None)
    assert time.monotonic() - started < 2
    assert menu["refused_edit"]["problems"] == [
        f"{menus_file}:1: the file expands to more than 20000 values (YAML aliases used over and"
        " over?)"]
    started = time.monotonic()
    assert OLD_GREETING in greeting(signed)
    assert time.monotonic() - started < 1


def test_a_menu_file_too_large_is_refused_unread(
    app: Flask, signed: SignedClient, menus_file: Path
) -> None:
    with menus_file.open("a", encoding="utf-8") as file:
        file.write("# padding\n" * 40_000)  # 400 KB
    menu = settled(app, lambda menu: menu["refused_edit"] is not None)
    assert menu["refused_edit"]["problems"] == [
        f"{menus_file}:1: the file is larger than 256 KiB; a menu is far smaller"]
    assert OLD_GREETING in greeting(signed)


def _registry_mid_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        seen_while_reading: str) -> tuple[MenuRegistry, Path, str]:
    """A registry whose next load reads ``seen_while_reading`` while an editor, writing in place,
    finishes the real edit during that read."""
    path = tmp_path / "menus.yaml"
    shutil.copy(ROOT / "menus.yaml", path)
    registry = MenuRegistry(path, check_interval=3600)  # checked by hand, no watcher
    edited = path.read_text(encoding="utf-8").replace(OLD_GREETING, NEW_GREETING)
    path.write_text(seen_while_reading, encoding="utf-8")
    real_load = registry_module.load_menu
    editor_done = False

    def load_while_the_editor_finishes(file: Path) -> Menu:
        nonlocal editor_done
        try:
            return real_load(file)
        finally:
            if not editor_done:
                editor_done = True
                file.write_text(edited, encoding="utf-8")
                os.utime(file, ns=(time.time_ns() + 2_000_000_000,) * 2)

    monkeypatch.setattr(registry_module, "load_menu", load_while_the_editor_finishes)
    return registry, path, edited


def principal_prompt(registry: MenuRegistry) -> str:
    return str(getattr(registry.current().node("principal"), "prompt", ""))


def test_a_file_read_empty_while_an_editor_writes_it_is_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _, _ = _registry_mid_write(tmp_path, monkeypatch, seen_while_reading="")
    registry.check()
    assert registry.refused is None  # judged again once the editor is done, not refused
    registry.check()
    assert registry.refused is None
    assert NEW_GREETING in principal_prompt(registry)


def test_a_file_read_half_written_is_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first lines alone may be a menu of their own: it must not be served in between.
    small = ("settings: {main_menu: principal}\n"
             "nodes:\n"
             "  principal: {type: menu, prompt: Metade., direct_entry: {digits: 8, goto: fim}}\n"
             "  fim: {type: message, say: Tchau.}\n")
    registry, _, _ = _registry_mid_write(tmp_path, monkeypatch, seen_while_reading=small)
    first = registry.current().version
    registry.check()
    assert registry.current().version == first
    registry.check()
    assert NEW_GREETING in principal_prompt(registry)
