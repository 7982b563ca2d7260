"""The web skeleton: layout, language switch, errors, CSP, static files, request log, WAL."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.storage.db import Database
from tests.web_support import LiveServer, live_server, shanghai


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The skeleton does not depend on the backend: one SQLite server for the module."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('web') / 'monitor.db'}")
    db.upgrade()
    with live_server(db, shanghai(2026, 3, 2, 9, 0)) as live:
        yield live
    db.dispose()


def test_pages_are_chinese_by_default_with_an_english_switch(server: LiveServer) -> None:
    zh = server.get("/registry")
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert "认定名单查询" in zh.text
    assert 'id="lang-switch" href="/registry?lang=en"' in zh.text
    en = server.get("/registry?lang=en")
    assert '<html lang="en">' in en.text and "Registry" in en.text
    assert 'id="lang-switch" href="/registry"' in en.text


def test_every_answer_carries_the_csp_without_inline_script(server: LiveServer) -> None:
    for path in ("/registry", "/registry?lang=en", "/nowhere", "/static/style.css", "/api/v1/registry"):
        csp = server.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path


def test_static_files_come_from_the_app(server: LiveServer) -> None:
    css = server.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert 'href="/static/style.css"' in server.get("/registry").text


def test_unknown_page_is_a_404_page_and_unknown_api_path_is_json(server: LiveServer) -> None:
    page = server.get("/nowhere")
    assert page.status_code == 404 and "未找到" in page.text and "<html" in page.text
    api = server.get("/api/v1/nowhere")
    assert api.status_code == 404 and set(api.json()) == {"error"}


def test_a_bad_lang_is_a_400_naming_it(server: LiveServer) -> None:
    page = server.get("/registry?lang=fr")
    assert page.status_code == 400 and "lang" in page.text


def test_healthz_needs_no_database(server: LiveServer) -> None:
    assert server.get("/healthz").text == "ok\n"


def test_one_log_line_per_request(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="web.access"):
        server.get("/registry?q=x")
        deadline = time.monotonic() + 5  # the line is written once the answer has gone out

        # The fixture's own /healthz probes may still be logging from the server thread: count this request's.
        def mine() -> list[str]:
            return [m for r in caplog.records if r.name == "web.access" and "/registry" in (m := r.getMessage())]

        while not mine() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    lines = mine()
    assert len(lines) == 1 and lines[0].startswith("GET /registry?q=x 200 ")
    assert lines[0].endswith(" 127.0.0.1") and "\n" not in lines[0]


def test_sqlite_is_served_in_wal_mode(server: LiveServer) -> None:
    with server.db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_web_settings_defaults_and_checks() -> None:
    from monitor import config

    web = config.load(environ={}).web
    assert (web.host, web.port, web.session_hours, web.public_url) == ("127.0.0.1", 8080, 8, "http://127.0.0.1:8080")
    web = config.load(environ={"SME_MONITOR_WEB__BASE_URL": "https://mingdan.example.cn/"}).web
    assert web.public_url == "https://mingdan.example.cn"
    for key, value, named in (
        ("SME_MONITOR_WEB__PORT", "0", "web.port"),
        ("SME_MONITOR_WEB__BASE_URL", "mingdan.example.cn", "web.base_url"),
        ("SME_MONITOR_WEB__SESSION_HOURS", "0", "web.session_hours"),
    ):
        with pytest.raises(config.ConfigError, match=named):
            config.load(environ={key: value})
    assert "secret" not in repr(config.load(environ={"SME_MONITOR_WEB__SECRET_KEY": "secret-zzz"}).web)


def test_a_failure_is_a_plain_500_without_a_trace(tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: every query fails
    with live_server(broken, shanghai(2026, 3, 2, 9, 0)) as live:
        page = live.get("/registry")
        assert page.status_code == 500 and "<html" in page.text
        assert "content-security-policy" in page.headers
        api = live.get("/api/v1/registry")
        assert api.status_code == 500 and list(api.json()) == ["error"]
        for body in (page.text, api.text):
            assert "Traceback" not in body and "sqlalchemy" not in body.lower() and "kept_answers" not in body
    broken.dispose()
