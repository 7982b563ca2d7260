"""A real browser (Debian's chromium, driven by Playwright) searches the registry and opens an entity.

No browser is ever downloaded: Playwright launches /usr/bin/chromium. Where it is missing the test skips,
except in CI (`CI` set, as .ci/run does), where it fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.storage.db import Database
from tests.registry_data import seed
from tests.web_support import live_server, shanghai

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("SME_MONITOR_TEST_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    database.upgrade()
    yield database
    database.dispose()


def test_search_the_registry_and_open_an_entity(browser: Any, sqlite_db: Database, tmp_path: Path) -> None:
    s = seed(sqlite_db)
    with live_server(sqlite_db, shanghai(2026, 3, 10, 10, 0)) as server:
        page = browser.new_page()
        console_errors: list[str] = []
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{server.url}/registry")
        assert "认定名单" in page.title()
        assert page.locator("#result-count").inner_text().startswith("共 6 条")
        page.fill("#q", "锦江")
        page.select_option("#status", "active")
        page.click("#search")
        page.wait_for_url("**/registry?*q=*")
        assert page.locator("#result-count").inner_text().startswith("共 1 条")
        rows = page.locator("#results tbody tr")
        assert rows.count() == 1
        page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
        rows.first.locator("a").click()
        page.wait_for_url(f"**/registry/{s.active}")
        assert page.locator("#entity-name").inner_text() == "成都锦江科创服务平台有限公司"
        assert page.locator("#status").inner_text() == "有效"
        page.screenshot(path=str(tmp_path / "entity.png"), full_page=True)
        page.click("#lang-switch")
        page.wait_for_url("**lang=en")
        assert page.locator("#status").inner_text() == "active"
        # The markup name stays text, and the stylesheet loads under the CSP (no violation in the console).
        page.goto(f"{server.url}/registry/{s.markup}")
        assert page.locator("#entity-name").inner_text() == "<script>alert(1)</script>测试平台"
        assert page.evaluate("getComputedStyle(document.querySelector('header.site')).display") == "block"
        page.screenshot(path=str(tmp_path / "markup.png"), full_page=True)
        assert console_errors == []
    assert (tmp_path / "entity.png").stat().st_size > 10_000
