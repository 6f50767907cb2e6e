"""The console in a real browser: Debian's chromium driven by Playwright, JavaScript off, against
gunicorn serving calls the test made through signed webhooks. Screenshots of each page are kept
in ``test-output/admin-browser/``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from admin.accounts import create_admin
from admin.reports import parse_period, totals
from ivr.menu import MenuError, load_menu
from ivr.replay import replay_calls
from tests.admin_calls import EXPECTED_CALLS, EXPECTED_FUNNEL, make_calls, sid
from tests.conftest import OPEN_HOURS, ROOT
from tests.conftest_admin import ADMIN, PASSWORD, SECRET
from tests.e2e import LiveServer, live_server
from tests.menu_edits import edited_menu, move_option

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "test-output" / "admin-browser"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must have Debian's chromium (.ci/run installs it)", pytrace=False)
    pytest.skip("Debian's chromium is not installed here (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("admin-browser"),
                     environ={"SECRET_KEY": SECRET}) as server:
        with server.database.transaction() as session:
            create_admin(session, ADMIN, PASSWORD, now=OPEN_HOURS, rounds=4)
        make_calls(server.caller)
        wait_for_records(server)
        yield server


def wait_for_records(server: LiveServer) -> None:
    """The workers write call records in the background, within about half a second."""
    from zoneinfo import ZoneInfo

    period, _ = parse_period(None, None, OPEN_HOURS, ZoneInfo("America/Sao_Paulo"))
    deadline = time.monotonic() + 15
    while True:
        with server.database.transaction() as session:
            counted = totals(session, period)
        if counted.calls == EXPECTED_CALLS and counted.funnel == EXPECTED_FUNNEL:
            return
        assert time.monotonic() < deadline, (counted.calls, counted.funnel)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False, base_url=live.server.base,
                                  viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    tab.goto("/admin/")
    expect(tab).to_have_url(f"{live.server.base}/admin/login")
    tab.fill("input[name=username]", ADMIN)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    expect(tab).to_have_url(f"{live.server.base}/admin/")
    yield tab
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_overview_shows_the_calls_made(page: Page) -> None:
    expect(page.locator("#calls-total")).to_have_text(str(EXPECTED_CALLS))
    cadastro = page.locator("#transfers tr", has_text="cadastro")
    expect(cadastro.locator("td")).to_have_text(["cadastro", "1", "1", "2"])
    images = page.locator("img.chart")
    assert images.count() >= 5
    for n in range(images.count()):  # every chart decoded and drawn
        assert images.nth(n).evaluate("img => img.naturalWidth") > 0
    shot(page, "overview")


def test_the_funnel_and_a_node_followed_from_the_diagram(page: Page, live: LiveServer) -> None:
    page.goto("/admin/funnel")
    principal = page.locator("#funnel tr", has_text="principal").first
    expect(principal.locator("td").nth(2)).to_have_text("5")
    shot(page, "funnel")

    page.goto("/admin/menu")
    node = page.locator("#diagram svg a", has_text="cadastro").first
    expect(node).to_be_visible()
    shot(page, "menu")
    node.click()
    expect(page).to_have_url(f"{live.server.base}/admin/nodes/cadastro")
    expect(page.locator("#node-numbers tr", has_text="reached").locator("td")).to_have_text("2")
    expect(page.locator("#node-transfers tr", has_text="busy").locator("td")).to_have_text("1")
    shot(page, "node-cadastro")


def test_recent_calls_are_masked(page: Page) -> None:
    page.goto("/admin/calls")
    expect(page.locator("table.calls tr")).to_have_count(EXPECTED_CALLS + 1)
    assert "987654321" not in page.content()
    page.fill("input[name=q]", "+55 11 98765-4321")
    page.click("form button[type=submit] >> nth=-1")
    expect(page.locator("table.calls tr")).to_have_count(EXPECTED_CALLS + 1)
    shot(page, "calls")


def test_preview_a_broken_then_a_good_edit(page: Page, tmp_path: Path) -> None:
    shipped = (ROOT / "menus.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(shipped.replace("goto: cadastro\n", "goto: cadastrp\n", 1))
    with pytest.raises(MenuError) as checked:  # what menus check says of the same file
        load_menu(broken, display_name="broken.yaml")
    [problem] = checked.value.problems
    page.goto("/admin/preview")
    page.set_input_files("input[type=file]", str(broken))
    page.click("main button[type=submit]")
    expect(page.locator("#problems li")).to_have_text([str(problem)])
    shot(page, "preview-broken")

    good = tmp_path / "good.yaml"
    good.write_text(shipped.replace("label: suporte técnico", "label: suporte", 1))
    page.set_input_files("input[type=file]", str(good))
    page.click("main button[type=submit]")
    expect(page.locator("#result h2")).to_contain_text("good.yaml: OK")
    expect(page.locator("#result")).to_contain_text("changed: principal")
    expect(page.locator("#diagram svg")).to_be_visible()
    expect(page.locator("#moved-count")).to_have_text("0")  # a label's change moves no call
    shot(page, "preview-good")


def test_preview_replays_the_calls_made(page: Page, live: LiveServer, tmp_path: Path) -> None:
    """Moving the registration option to 8: the two callers who pressed 7 would end elsewhere,
    as ``menus diff`` says of the same two files."""
    moved = edited_menu(tmp_path / "moved.yaml", move_option("principal", "7", "8"))
    results = replay_calls(live.database, load_menu(ROOT / "menus.yaml"), load_menu(moved))
    page.goto("/admin/preview")
    page.set_input_files("input[type=file]", str(moved))
    page.click("main button[type=submit]")
    expect(page.locator("#replayed-count")).to_have_text(str(len(results)))
    expect(page.locator("#moved-count")).to_have_text("2")
    expect(page.locator("#replay-moved td.mono:first-child")).to_have_text(
        [result.call_sid for result in results if result.differs])
    expect(page.locator("#replay-moved tr", has_text=sid(1)).locator("td").nth(2)).to_have_text(
        "dead_end principal")
    shot(page, "preview-replay")


def test_logging_out(page: Page, live: LiveServer) -> None:
    page.click("header button[type=submit]")
    expect(page).to_have_url(f"{live.server.base}/admin/login")
    page.goto("/admin/calls")
    expect(page).to_have_url(f"{live.server.base}/admin/login")
