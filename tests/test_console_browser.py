"""The console in a real browser (Debian's chromium through Playwright, never a downloaded browser): log in,
record a failed evaluation through the form and see the status turn to 暂停, upload a file with a bad row and
see the row's error, acknowledge a finding; an axe-core pass on every page (no serious or critical
violation). Screenshots are kept under the test's tmp_path.

axe-core comes from the npm registry: `.ci/run` installs it into a temporary directory and names its
axe.min.js in SME_MONITOR_TEST_AXE; it is injected through the DevTools protocol (page.evaluate), which the
pages' Content-Security-Policy does not block, so the pages are checked exactly as served."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from monitor import config
from monitor.storage.db import Database
from tests.console_data import NOW, seed
from tests.console_support import PASSWORD
from tests.test_web_browser import _unavailable, browser  # noqa: F401  (the chromium fixture)
from tests.web_support import LiveServer, live_server

pytestmark = pytest.mark.slow

AXE_DEFAULT = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    path = Path(os.environ.get("SME_MONITOR_TEST_AXE", str(AXE_DEFAULT)))
    if not path.is_file():
        _unavailable(f"axe-core is missing ({path}): npm install axe-core, or set SME_MONITOR_TEST_AXE")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def console(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Any]]:
    db = Database(sqlite_url)
    db.upgrade()
    settings = config.load(environ={})
    settings = replace(settings, mail=replace(settings.mail, directory=tmp_path / "mail"))
    city = seed(db, settings)
    with live_server(db, NOW, settings) as server:
        yield server, city
    db.dispose()


def check_a11y(page: Any, axe: str, where: str) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe)
    result = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        f"{where}: {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def test_a_staff_member_works_in_the_browser(browser: Any, console: tuple[LiveServer, Any], tmp_path: Path) -> None:  # noqa: F811
    server, city = console
    axe = axe_source()
    shots = tmp_path / "shots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    # A refused form answers 422 on purpose; the browser logs that as an error, nothing else may be one.
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" and "status of 422" not in msg.text else None,
    )
    problems: list[str] = []

    def visit(path: str, name: str) -> None:
        page.goto(server.url + path)
        problems.extend(check_a11y(page, axe, path))
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    # Log in (a console page sends us to the login form, then back).
    page.goto(f"{server.url}/entities")
    page.wait_for_url("**/login?next=*")
    problems.extend(check_a11y(page, axe, "/login"))
    page.screenshot(path=str(shots / "login.png"), full_page=True)
    page.fill("#username", "staff1")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url("**/entities")
    assert "staff1" in page.locator("#who").inner_text()

    # Record a failed evaluation through the form; the status turns to 暂停.
    visit(f"/entities/{city.j_active}", "entity-before")
    assert page.locator("#status").inner_text() == "有效"
    page.click("#record-links a[href*='kind=evaluated']")
    page.wait_for_url("**/events/new?kind=evaluated")
    problems.extend(check_a11y(page, axe, "event form"))
    page.fill("#f-date", "2026-03-01")
    page.select_option("#f-result", "failed")
    page.fill("#f-note", "年度测评不合格")
    page.screenshot(path=str(shots / "event-form.png"), full_page=True)
    page.click("#record-submit")
    page.wait_for_url(f"**/entities/{city.j_active}?recorded=evaluated")
    assert page.locator("#status").inner_text() == "暂停"
    assert "年度测评不合格" in page.locator("#timeline").inner_text()
    page.screenshot(path=str(shots / "entity-suspended.png"), full_page=True)

    # A refused form keeps the message beside the field.
    page.goto(f"{server.url}/entities/{city.j_active}/events/new?kind=evaluated")
    page.fill("#f-date", "2027-01-01")
    page.click("#record-submit")
    assert page.locator("#err-date").is_visible() and page.locator("#err-result").is_visible()
    problems.extend(check_a11y(page, axe, "refused event form"))
    page.screenshot(path=str(shots / "event-refused.png"), full_page=True)

    # Upload a file with a bad row and see that row's error.
    bad = tmp_path / "填报-有错.csv"
    bad.write_text(
        f"credit_code,period,filed_on\n{city.j_missed},2025-10,2025-10-20\n{city.j_missed},2025-10,2099-01-01\n",
        encoding="utf-8",
    )
    visit("/imports", "imports")
    page.select_option("#import-kind", "filings")
    page.set_input_files("#import-file", str(bad))
    page.click("#upload")
    page.wait_for_selector("#problems")
    assert "填报-有错.csv:3: filed_on:" in page.locator("#problems").inner_text()
    assert page.locator("#apply").count() == 0
    problems.extend(check_a11y(page, axe, "import problems"))
    page.screenshot(path=str(shots / "import-problems.png"), full_page=True)

    # Acknowledge a finding from the entity page.
    visit(f"/entities/{city.j_missed}", "entity-findings")
    first = page.locator("#findings form.ack").first
    first.locator("input[name=note]").fill("正在核实")
    first.locator("button").click()
    page.wait_for_url(f"**/entities/{city.j_missed}")
    assert "已确认：staff1" in page.locator("#findings").inner_text()
    page.screenshot(path=str(shots / "entity-acked.png"), full_page=True)

    # Every other page passes axe too.
    for path, name in (
        ("/", "home"),
        ("/findings", "findings"),
        (f"/silences?credit_code={city.j_missed}&until=2026-04-30&reason=x", "silences"),
        ("/outbox", "outbox"),
        ("/outbox/1", "outbox-message"),
        ("/digests/2026-03-01", "digest"),
        ("/reports/new", "report"),
        ("/registry", "registry"),
        (f"/entities/{city.j_missed}/events/new", "event-kinds"),
    ):
        visit(path, name)
    # An administrator's pages.
    page.goto(f"{server.url}/logout")
    page.click("main button[type=submit]")
    page.wait_for_url("**/login")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url(f"{server.url}/")
    visit("/users", "users")
    visit("/audit", "audit")
    assert "staff1" in page.locator("#audit").inner_text()

    assert problems == [], "\n".join(problems)
    assert errors == []
    assert (shots / "entity-suspended.png").stat().st_size > 10_000
    keep = os.environ.get("SME_MONITOR_TEST_SHOTS")
    if keep:  # for a person to look at them
        import shutil

        shutil.copytree(shots, keep, dirs_exist_ok=True)
