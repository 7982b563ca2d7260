"""Staff alerts, district notices and the digest link each entity to its console page (`web.base_url`); that
page is a page with an acknowledge button (a POST), and following the link changes nothing."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

import sqlalchemy as sa

from monitor import config
from monitor.domain import History
from monitor.legal_time import WorkCalendar
from monitor.rules import evaluate_entity
from monitor.storage.db import Database
from notifications import compose, digest
from notifications.models import Acknowledgement
from tests.console_data import NOW, seed
from tests.console_support import logged_in
from tests.rulecases import CODE, ENTITY, cert, monthly
from tests.web_support import live_server

CAL = WorkCalendar.load(None)
BASE = "https://console.example.gov.cn/"


def _settings() -> config.Settings:
    settings = config.load(environ={})
    return replace(settings, web=replace(settings.web, base_url=BASE))


def _bodies(content: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(content, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def _findings(settings: config.Settings) -> list:  # type: ignore[type-arg]
    history = History(ENTITY, (cert("2025-06-10"),), monthly("2025-07", "2025-09"))
    return [f for f in evaluate_entity(history, date(2026, 3, 27), CAL, settings.rules).findings if f.entity == CODE]


def test_a_staff_alert_and_a_district_notice_link_to_the_console_entity_page() -> None:
    settings = _settings()
    found = _findings(settings)
    url = f"https://console.example.gov.cn/entities/{CODE}"
    alert = compose.staff_alert(
        settings, "k", "s@example.cn", found, [], date(2026, 3, 27), datetime(2026, 3, 27, tzinfo=UTC)
    )
    text, html = _bodies(alert.content)
    assert url in text and f'href="{url}"' in html
    notice = compose.district_notice(
        settings, "k2", "d@example.cn", ENTITY.district, found, date(2026, 3, 27), datetime(2026, 3, 27, tzinfo=UTC)
    )
    text, html = _bodies(notice.content)
    assert url in text and f'href="{url}"' in html


def test_the_digest_links_its_entities_to_the_console(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    db.upgrade()
    settings = replace(_settings(), mail=replace(_settings().mail, directory=tmp_path / "mail"))
    city = seed(db, settings)
    # By April the streak is six months: a revocation due, listed first among the decisions.
    built = digest.build(db, settings, CAL, date(2026, 4, 2), NOW)
    assert f"https://console.example.gov.cn/entities/{city.j_missed}" in built.html
    db.dispose()


def test_following_the_link_shows_a_button_and_changes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    db.upgrade()
    settings = config.load(environ={})
    settings = replace(settings, mail=replace(settings.mail, directory=tmp_path / "mail"))
    city = seed(db, settings)
    with live_server(db, NOW, settings) as server:
        anonymous = server.get(f"/entities/{city.j_missed}")
        assert (
            anonymous.status_code == 303
            and anonymous.headers["location"] == f"/login?next=%2Fentities%2F{city.j_missed}"
        )
        b = logged_in(server, "staff1")
        page = b.get(f"/entities/{city.j_missed}")
        assert 'method="post" action="/findings/ack"' in page.text
        with db.session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(Acknowledgement)).scalar_one() == 0
        assert b.get("/findings/ack").status_code == 405
    db.dispose()
